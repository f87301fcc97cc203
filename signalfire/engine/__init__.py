"""Orchestration: the clock, background duties, and the pipelines between modules."""
