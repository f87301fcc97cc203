"""Streaming, causal statistics over series: detectors, baselines, fusion of
signals and backtest scoring.

Everything here is pure: no I/O, no clock, no asyncio. Time is a parameter
(seconds since the epoch, as floats, so a replay of millions of points does not
build millions of datetimes).
"""
