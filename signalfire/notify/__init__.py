"""Telling people: the outbox dispatcher and the channels it sends through."""
