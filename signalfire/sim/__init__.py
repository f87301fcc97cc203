"""Simulated service and crowd for the demo and the tests."""
