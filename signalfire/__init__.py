"""Signalfire: detects outages of an online service and tells its users the truth, fast."""

__version__ = "0.1.0"
