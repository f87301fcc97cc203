"""Public documents are rendered once, and a write drops exactly what it made stale."""

from __future__ import annotations

import asyncio
import threading

from signalfire.domain.status import IncidentStatus
from signalfire.publish.site import Rendered
from signalfire.web.cache import RenderCache


def _api(app):
    # The admin app sits behind the fast paths (intake, public side) and the body limit.
    while not hasattr(app, "state"):
        app = app.app
    return app


def _services(env):
    return _api(env.client.app).state.services


def _snapshot(env):
    return {key.split("|")[1]: rendered for key, (rendered, _) in _services(env).cache._entries.items()}


def _kept_and_redone(env, before):
    after = _snapshot(env)
    assert set(after) == set(before), "a stale document was not rendered again"
    kept = {p for p in before if after[p] is before[p]}
    return kept, set(before) - kept, after


def test_a_second_read_is_served_from_the_cache(env):
    cache = _services(env).cache
    env.anon.get("/api/v2/summary.json")
    renders = cache.renders
    for _ in range(5):
        assert env.anon.get("/api/v2/summary.json").status_code == 200
    assert cache.renders == renders


def test_an_etag_gives_a_304(env):
    first = env.anon.get("/api/v2/status.json")
    again = env.anon.get("/api/v2/status.json", headers={"If-None-Match": first.headers["etag"]})
    assert again.status_code == 304 and again.content == b""


def test_a_component_write_rerenders_what_it_touched_and_keeps_the_rest(env, clock):
    i = env.store.create_incident(env.page_id, name="Old", status=IncidentStatus.RESOLVED,
                                  body="b", now=clock())
    for path in ("/", "/api/v2/summary.json", "/api/v2/components.json", f"/incidents/{i.id}",
                 "/history.atom", "/history"):
        env.anon.get(path)
    before = _snapshot(env)
    env.client.patch(env.url(f"/components/{env.feed}"), json={"status": "degraded_performance"})
    kept, redone, after = _kept_and_redone(env, before)
    assert kept == {f"/incidents/{i.id}", "/history.atom", "/history"}
    assert redone == {"/", "/api/v2/summary.json", "/api/v2/components.json"}
    assert b"degraded_performance" in after["/api/v2/components.json"].rendered.body
    renders = _services(env).cache.renders
    assert "degraded_performance" in env.anon.get("/api/v2/summary.json").text
    assert _services(env).cache.renders == renders  # served from the pre-rendered bytes


def test_an_incident_update_keeps_the_pages_of_other_incidents(env, clock):
    a = env.store.create_incident(env.page_id, name="A", status=IncidentStatus.INVESTIGATING,
                                  body="b", now=clock())
    b = env.store.create_incident(env.page_id, name="B", status=IncidentStatus.RESOLVED,
                                  body="b", now=clock())
    for path in (f"/incidents/{a.id}", f"/incidents/{b.id}", "/api/v2/components.json"):
        env.anon.get(path)
    before = _snapshot(env)
    env.client.post(env.url(f"/incidents/{a.id}/updates"),
                    json={"status": "identified", "body": "found it"})
    kept, redone, after = _kept_and_redone(env, before)
    assert kept == {f"/incidents/{b.id}", "/api/v2/components.json"}
    assert redone == {f"/incidents/{a.id}"}
    assert b"found it" in after[f"/incidents/{a.id}"].rendered.body


def test_a_deleted_incident_page_is_dropped(env, clock):
    a = env.store.create_incident(env.page_id, name="A", status=IncidentStatus.INVESTIGATING,
                                  body="b", now=clock())
    env.anon.get(f"/incidents/{a.id}")
    env.client.delete(env.url(f"/incidents/{a.id}"))
    assert f"/incidents/{a.id}" not in _snapshot(env)
    assert env.anon.get(f"/incidents/{a.id}").status_code == 404


def test_query_strings_do_not_create_cache_entries(env):
    for n in range(20):
        env.anon.get(f"/api/v2/summary.json?cachebuster={n}")
    assert len(_services(env).cache) == 1


def test_unknown_pages_and_incidents_are_404s(env):
    assert env.anon.get("/p/nosuchpage/").status_code == 404
    r = env.anon.get("/p/nosuchpage/api/v2/summary.json")
    assert r.status_code == 404 and r.json()["status"] == 404
    assert env.anon.get("/incidents/nosuchincident").status_code == 404


def test_every_page_is_served_under_its_slug(env, clock):
    other = env.store.put_page("second", name="Second", now=clock())
    env.store.create_component(other.id, name="Only here", now=clock())
    env.client.patch(f"/api/v1/pages/{other.id}", json={"description": "x"})  # refresh pages
    names = [c["name"] for c in env.anon.get("/p/second/api/v2/components.json").json()["components"]]
    assert names == ["Only here"]
    assert "Only here" not in env.anon.get("/").text


def test_a_herd_for_a_stale_document_renders_it_once():
    cache = RenderCache()
    calls = []
    gate = threading.Event()

    def render() -> Rendered:
        calls.append(1)
        gate.wait(2)
        return Rendered.make(b"{}", "application/json", {"p:components"})

    async def herd():
        tasks = [asyncio.create_task(cache.get_or_render("k", render)) for _ in range(50)]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(*tasks)

    results = asyncio.run(herd())
    assert len(calls) == 1 and all(r.body == b"{}" for r in results)


def test_a_render_overtaken_by_a_write_is_not_kept():
    cache = RenderCache()

    def render() -> Rendered:
        cache.invalidate({"p:components"})  # a write lands while we render
        return Rendered.make(b"old", "application/json", {"p:components"})

    asyncio.run(cache.get_or_render("k", render))
    assert cache.get("k") is None


def test_a_history_page_past_the_end_is_a_404(env):
    assert env.anon.get("/history?page=1").status_code == 200
    assert env.anon.get("/history?page=99").status_code == 404


def test_the_hot_documents_are_rendered_at_start(store, clock):
    import time

    from starlette.testclient import TestClient

    from signalfire.web.app import create_app

    page = store.put_page("app", name="App", now=clock())
    store.create_component(page.id, name="Feed", now=clock())
    app = create_app(store, base_url="http://status.test", clock=clock, background=True)
    with TestClient(app, base_url="http://status.test"):
        cache = _api(app).state.services.cache
        deadline = time.monotonic() + 5
        while len(cache) < 6 and time.monotonic() < deadline:
            time.sleep(0.01)
        assert {k.split("|")[1] for k in cache._entries} >= {"/", "/api/v2/summary.json",
                                                             "/api/v2/status.json"}


def test_large_documents_are_served_gzipped_to_clients_that_ask(env):
    import gzip

    plain = env.anon.get("/", headers={"Accept-Encoding": "identity"})
    assert "content-encoding" not in plain.headers
    raw = env.anon.build_request("GET", "/", headers={"Accept-Encoding": "gzip"})
    packed = env.anon.send(raw, stream=True)
    body = b"".join(packed.iter_raw())
    packed.close()
    assert packed.headers["content-encoding"] == "gzip"
    assert packed.headers["vary"] == "accept-encoding"
    assert len(body) < len(plain.content) / 3
    assert gzip.decompress(body) == plain.content


def test_head_sends_headers_only(env):
    r = env.anon.head("/api/v2/summary.json")
    assert r.status_code == 200 and r.content == b""
    assert int(r.headers["content-length"]) > 100
