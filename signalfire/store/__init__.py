"""Storage: one Store over SQLAlchemy Core, on SQLite (default) or PostgreSQL."""

from signalfire.store.store import Store, open_store

__all__ = ["Store", "open_store"]
