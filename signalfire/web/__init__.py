"""The ASGI application: public pages and API, admin API."""
