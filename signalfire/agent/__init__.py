"""The probe agent: runs one region's monitors away from the server.

An agent pulls its region's monitors from the server (``GET /api/v1/agent/monitors``),
runs them with the same ``Checker`` and ``Scheduler`` as the server's own
region ``local``, and pushes what it saw (``POST /api/v1/agent/observations``).

Between the two sits a durable local queue (``queue``): an observation is
written to disk before anything tries to send it, and leaves the disk only
after the server answered 2xx for it. The server stores each observation id
once, so a batch sent twice (the agent died between the 2xx and the delete)
is stored once: every observation made arrives exactly once, however long the
server is away. ``docs/agents.md`` is the operator's side of this.

Modules: ``wire`` (JSON shapes), ``queue``, ``client`` (HTTP and its error
tree), ``backoff``, ``sender`` (queue to server), ``main`` (the process).
"""
