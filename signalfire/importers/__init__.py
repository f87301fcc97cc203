"""Bringing history kept elsewhere into Signalfire (an existing Statuspage page's feed)."""
