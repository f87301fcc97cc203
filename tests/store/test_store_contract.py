"""The Store contract: every test runs on SQLite and on the real PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

import pytest

from signalfire.domain.status import ComponentStatus, Impact, IncidentStatus, MaintenanceStatus
from signalfire.errors import AuthError, InputError, NotFound, TransitionError

OUT = ComponentStatus.MAJOR_OUTAGE
OK = ComponentStatus.OPERATIONAL


@pytest.fixture
def page(any_store, clock):
    return any_store.put_page("app", name="App", now=clock())


def test_it_round_trips_aware_utc_times(any_store, clock, page):
    c = any_store.create_component(page.id, name="Feed", now=clock())
    assert c.created_at == clock()
    assert c.created_at.utcoffset() == timedelta(0)


def test_put_page_is_idempotent_and_updates_fields(any_store, clock, page):
    again = any_store.put_page("app", name="App", now=clock.advance(minutes=1))
    assert again.id == page.id and again.updated_at == page.updated_at
    renamed = any_store.put_page("app", name="The App", now=clock.advance(minutes=1))
    assert renamed.name == "The App" and renamed.updated_at == clock()
    assert [p.slug for p in any_store.list_pages()] == ["app"]


def test_component_names_are_unique_per_page(any_store, clock, page):
    any_store.create_component(page.id, name="Feed", now=clock())
    with pytest.raises(InputError) as info:
        any_store.create_component(page.id, name="Feed", now=clock())
    assert info.value.field == "name"
    assert len(any_store.list_components(page.id)) == 1


def test_a_component_in_a_group_of_another_page_is_refused(any_store, clock, page):
    other = any_store.put_page("other", name="Other", now=clock())
    g = any_store.create_group(other.id, name="Core", now=clock())
    with pytest.raises(InputError, match="another page"):
        any_store.create_component(page.id, name="Feed", group_id=g.id, now=clock())


def test_deleting_a_group_keeps_its_components(any_store, clock, page):
    g = any_store.create_group(page.id, name="Core", now=clock())
    c = any_store.create_component(page.id, name="Feed", group_id=g.id, now=clock())
    any_store.delete_group(g.id)
    assert any_store.get_component(c.id).group_id is None


def test_unknown_ids_raise_not_found(any_store):
    for call in (any_store.get_page, any_store.get_component, any_store.get_group,
                 any_store.get_incident):
        with pytest.raises(NotFound):
            call("nosuchid")


def test_an_incident_sets_component_statuses_and_records_them(any_store, clock, page):
    c = any_store.create_component(page.id, name="Feed", now=clock())
    clock.advance(minutes=5)
    i = any_store.create_incident(page.id, name="Feed down", status=IncidentStatus.INVESTIGATING,
                                  body="Looking", now=clock(), components={c.id: OUT})
    assert i.impact is Impact.CRITICAL
    assert i.component_ids == (c.id,)
    assert any_store.get_component(c.id).status is OUT
    (update,) = i.updates
    assert update.affected_components[0].old_status is OK
    assert update.affected_components[0].new_status is OUT
    history = any_store.status_history([c.id], clock() - timedelta(days=1))[c.id]
    assert [h.status for h in history] == [OK, OUT]


def test_resolving_restores_components_not_held_by_another_incident(any_store, clock, page):
    a = any_store.create_component(page.id, name="Feed", now=clock())
    b = any_store.create_component(page.id, name="Login", now=clock())
    first = any_store.create_incident(page.id, name="One", status=IncidentStatus.INVESTIGATING,
                                      body="x", now=clock(), components={a.id: OUT, b.id: OUT})
    any_store.create_incident(page.id, name="Two", status=IncidentStatus.INVESTIGATING,
                              body="y", now=clock(), components={b.id: OUT})
    resolved = any_store.add_update(first.id, status=IncidentStatus.RESOLVED, body="fixed",
                                    now=clock.advance(minutes=30))
    assert resolved.resolved_at == clock()
    assert any_store.get_component(a.id).status is OK
    assert any_store.get_component(b.id).status is OUT  # still held by "Two"


def test_updates_come_newest_first_and_reopening_clears_resolved_at(any_store, clock, page):
    i = any_store.create_incident(page.id, name="X", status=IncidentStatus.INVESTIGATING,
                                  body="one", now=clock())
    any_store.add_update(i.id, status=IncidentStatus.RESOLVED, body="two",
                         now=clock.advance(minutes=1))
    i = any_store.add_update(i.id, status=IncidentStatus.INVESTIGATING, body="three",
                             now=clock.advance(minutes=1))
    assert [u.body for u in i.updates] == ["three", "two", "one"]
    assert i.resolved_at is None and i.is_open


def test_a_forbidden_transition_writes_nothing(any_store, clock, page):
    c = any_store.create_component(page.id, name="Feed", now=clock())
    i = any_store.create_incident(page.id, name="X", status=IncidentStatus.RESOLVED, body="done",
                                  now=clock())
    any_store.add_update(i.id, status=IncidentStatus.POSTMORTEM, body="pm", now=clock())
    with pytest.raises(TransitionError):
        any_store.add_update(i.id, status=IncidentStatus.INVESTIGATING, body="again",
                             now=clock(), components={c.id: OUT})
    assert len(any_store.get_incident(i.id).updates) == 2
    assert any_store.get_component(c.id).status is OK


def test_an_unknown_component_in_an_incident_writes_nothing(any_store, clock, page):
    with pytest.raises(InputError) as info:
        any_store.create_incident(page.id, name="X", status=IncidentStatus.INVESTIGATING,
                                  body="b", now=clock(), components={"nosuch": OUT})
    assert info.value.field == "components.nosuch"
    assert any_store.list_incidents(page.id) == []


def test_maintenance_moves_by_itself_and_puts_components_under_maintenance(any_store, clock, page):
    c = any_store.create_component(page.id, name="DB", now=clock())
    start = clock() + timedelta(hours=1)
    m = any_store.create_maintenance(page.id, name="Upgrade", body="planned", now=clock(),
                                     scheduled_for=start, scheduled_until=start + timedelta(hours=1),
                                     component_ids=[c.id])
    assert m.status is MaintenanceStatus.SCHEDULED
    assert any_store.advance_maintenance(clock.advance(minutes=30)) == []
    assert any_store.advance_maintenance(clock.advance(minutes=31)) == [m.id]
    assert any_store.get_incident(m.id).status is MaintenanceStatus.IN_PROGRESS
    assert any_store.get_component(c.id).status is ComponentStatus.UNDER_MAINTENANCE
    any_store.advance_maintenance(clock.advance(hours=1))
    done = any_store.get_incident(m.id)
    assert done.status is MaintenanceStatus.COMPLETED and done.resolved_at == clock()
    assert any_store.get_component(c.id).status is OK
    assert [u.status for u in done.updates] == [MaintenanceStatus.COMPLETED,
                                                MaintenanceStatus.IN_PROGRESS,
                                                MaintenanceStatus.SCHEDULED]


def test_maintenance_cannot_go_back(any_store, clock, page):
    start = clock() - timedelta(minutes=1)
    m = any_store.create_maintenance(page.id, name="U", body="b", now=clock(),
                                     scheduled_for=start, scheduled_until=start + timedelta(hours=1))
    assert m.status is MaintenanceStatus.IN_PROGRESS  # already due when entered
    with pytest.raises(TransitionError):
        any_store.add_update(m.id, status=MaintenanceStatus.SCHEDULED, body="no", now=clock())


def test_list_incidents_filters_by_kind_and_openness(any_store, clock, page):
    any_store.create_incident(page.id, name="Open", status=IncidentStatus.INVESTIGATING,
                              body="b", now=clock())
    any_store.create_incident(page.id, name="Closed", status=IncidentStatus.RESOLVED, body="b",
                              now=clock.advance(minutes=1))
    any_store.create_maintenance(page.id, name="M", body="b", now=clock(),
                                 scheduled_for=clock() + timedelta(days=1),
                                 scheduled_until=clock() + timedelta(days=1, hours=1))
    assert [i.name for i in any_store.list_incidents(page.id)] == ["Closed", "Open"]
    assert [i.name for i in any_store.list_incidents(page.id, open_only=True)] == ["Open"]
    assert [i.name for i in any_store.list_incidents(page.id, kind="maintenance")] == ["M"]
    assert any_store.count_incidents(page.id) == 2


def test_import_incident_is_idempotent_and_leaves_components_alone(any_store, clock, page):
    c = any_store.create_component(page.id, name="Feed", now=clock())
    t0 = clock() - timedelta(days=10)
    updates = [(IncidentStatus.INVESTIGATING, "looking", t0),
               (IncidentStatus.RESOLVED, "fixed", t0 + timedelta(hours=1))]
    i = any_store.import_incident(page.id, imported_from="https://x/incidents/1", name="Old",
                                  impact=Impact.MINOR, updates=updates, component_ids=[c.id])
    assert i is not None and i.resolved_at == t0 + timedelta(hours=1) and i.started_at == t0
    assert any_store.import_incident(page.id, imported_from="https://x/incidents/1", name="Old",
                                     impact=Impact.MINOR, updates=updates) is None
    assert any_store.get_component(c.id).status is OK


def test_tokens_are_stored_as_hashes_and_revocable(any_store, clock):
    record, secret = any_store.create_token("ci", now=clock())
    assert secret.startswith("sf_") and len(secret) > 40
    assert any_store.authenticate(secret, now=clock()).id == record.id
    with pytest.raises(AuthError):
        any_store.authenticate(secret + "x", now=clock())
    import sqlalchemy

    with any_store.engine.connect() as conn:
        stored = conn.execute(sqlalchemy.text("SELECT token_hash FROM api_tokens")).scalar()
    assert secret not in stored
    any_store.revoke_token(record.id)
    with pytest.raises(AuthError):
        any_store.authenticate(secret, now=clock())


def test_every_write_moves_the_revision(any_store, clock, page):
    before = any_store.revision()
    any_store.create_component(page.id, name="Feed", now=clock())
    assert any_store.revision() > before


def test_an_update_based_on_a_stale_read_is_refused_not_doubled(any_store, clock, page):
    """Two nodes' tickers racing on one window: exactly one automatic update lands."""
    start = clock() + timedelta(minutes=5)
    m = any_store.create_maintenance(page.id, name="U", body="b", now=clock(),
                                     scheduled_for=start, scheduled_until=start + timedelta(hours=1))
    stale = any_store.get_incident
    seen = stale(m.id)
    any_store.get_incident = lambda _id: seen  # the other node read before we wrote
    try:
        any_store.advance_maintenance(clock.advance(minutes=10))
        assert any_store.advance_maintenance(clock()) == []
    finally:
        del any_store.get_incident
    updates = any_store.get_incident(m.id).updates
    assert [u.status for u in updates] == [MaintenanceStatus.IN_PROGRESS, MaintenanceStatus.SCHEDULED]


def test_deleting_a_window_in_progress_hands_its_components_back(any_store, clock, page):
    c = any_store.create_component(page.id, name="DB", now=clock())
    m = any_store.create_maintenance(page.id, name="U", body="b", now=clock(),
                                     scheduled_for=clock(), scheduled_until=clock() + timedelta(hours=1),
                                     component_ids=[c.id])
    assert any_store.get_component(c.id).status is ComponentStatus.UNDER_MAINTENANCE
    any_store.delete_incident(m.id, now=clock.advance(minutes=5))
    assert any_store.get_component(c.id).status is OK
    with pytest.raises(NotFound):
        any_store.get_incident(m.id)


# -- detection ----------------------------------------------------------------------------


def test_automatic_incident_fields_round_trip(any_store, clock, page):
    c = any_store.create_component(page.id, name="Feed", now=clock())
    onset = clock() - timedelta(minutes=4)
    i = any_store.create_incident(
        page.id, name="Problems with Feed", status=IncidentStatus.INVESTIGATING, body="Seen.",
        now=clock(), components={c.id: OUT}, auto_detected=True, published=False,
        onset_at=onset, detected_at=clock(),
        detection={"statuses": {c.id: OUT.value}, "countries": ["BR"]})
    assert (i.onset_at, i.detected_at) == (onset, clock())
    assert i.acknowledged_at is None and i.first_public_update_at is None
    assert not i.published and i.detection["countries"] == ["BR"]
    assert any_store.get_component(c.id).status is OK  # held back: nothing public changes
    assert any_store.list_incidents(page.id, public_only=True) == []
    assert any_store.count_incidents(page.id, public_only=True) == 0
    assert any_store.latest_detected_incident(page.id).id == i.id
    confirmed = any_store.confirm_incident(i.id, now=clock.advance(minutes=2))
    assert confirmed.acknowledged_at == confirmed.first_public_update_at == clock()
    assert confirmed.published and not confirmed.auto_detected
    assert any_store.get_component(c.id).status is OUT
    assert [x.id for x in any_store.list_incidents(page.id, public_only=True)] == [i.id]
    with pytest.raises(TransitionError):
        any_store.confirm_incident(i.id, now=clock())
    with pytest.raises(TransitionError):
        any_store.dismiss_incident(i.id, now=clock())


def test_a_dismissed_incident_is_kept_hidden_and_resolved(any_store, clock, page):
    c = any_store.create_component(page.id, name="Feed", now=clock())
    i = any_store.create_incident(
        page.id, name="Problems with Feed", status=IncidentStatus.INVESTIGATING, body="Seen.",
        now=clock(), components={c.id: OUT}, auto_detected=True, detected_at=clock())
    assert i.first_public_update_at == clock()
    d = any_store.dismiss_incident(i.id, now=clock.advance(minutes=1), reason="load test")
    assert d.dismissed_at == clock() and not d.is_public
    assert d.status is IncidentStatus.RESOLVED and d.detection["dismissed_reason"] == "load test"
    assert any_store.get_component(c.id).status is OK
    assert any_store.list_incidents(page.id, public_only=True) == []
    assert [x.id for x in any_store.list_incidents(page.id)] == [i.id]


def test_detection_settings_round_trip(any_store, clock, page):
    assert any_store.detection_settings(page.id) is None
    any_store.put_detection_settings(page.id, {"enabled": True, "regions": {"a": ["BR"]}},
                                     now=clock())
    any_store.put_detection_settings(page.id, {"enabled": True, "threshold": 0.7},
                                     now=clock())
    assert any_store.detection_settings(page.id) == {"enabled": True, "threshold": 0.7}
    assert any_store.all_detection_settings() == {page.id: {"enabled": True, "threshold": 0.7}}


def test_only_one_process_holds_the_detection_duty(any_store, tmp_path):
    from signalfire.store import Store

    assert any_store.hold_duty("detection")
    assert any_store.hold_duty("detection")  # still ours
    if any_store.is_sqlite:
        return  # one node: nothing to share
    other = Store(any_store.engine)
    assert not other.hold_duty("detection")
    any_store.release_duties()
    assert other.hold_duty("detection")
    other.release_duties()


def test_dismissing_a_held_back_incident_leaves_component_statuses_alone(any_store, clock, page):
    c = any_store.create_component(page.id, name="Feed", now=clock())
    any_store.update_component(c.id, now=clock(), status=OUT)  # what the probes say
    i = any_store.create_incident(
        page.id, name="Problems with Feed", status=IncidentStatus.INVESTIGATING, body="Seen.",
        now=clock(), components={c.id: OUT}, auto_detected=True, published=False,
        detected_at=clock())
    d = any_store.dismiss_incident(i.id, now=clock.advance(minutes=1))
    assert d.status is IncidentStatus.RESOLVED and d.dismissed_at == clock()
    assert any_store.get_component(c.id).status is OUT


def _events(store, incident_id):
    from sqlalchemy import select

    from signalfire.store import schema as t

    e = t.notify_events.c
    with store.engine.connect() as conn:
        return [(r.kind, r.audience) for r in conn.execute(
            select(e.kind, e.audience).where(e.subject_id == incident_id).order_by(e.id))]


def test_automatic_incidents_tell_operators_first_and_the_public_once_confirmed(
        any_store, clock, page):
    c = any_store.create_component(page.id, name="Feed", now=clock())
    i = any_store.create_incident(
        page.id, name="Problems with Feed", status=IncidentStatus.INVESTIGATING, body="Seen.",
        now=clock(), components={c.id: OUT}, auto_detected=True, published=False,
        detected_at=clock(), detection={"statuses": {c.id: OUT.value}})
    any_store.detection_update(i.id, status=IncidentStatus.INVESTIGATING, body="Grew.",
                               now=clock(), statuses={}, detection={"statuses": {}})
    any_store.confirm_incident(i.id, now=clock())
    any_store.detection_update(i.id, status=IncidentStatus.RESOLVED, body="Quiet.",
                               now=clock(), statuses={}, detection={})
    assert _events(any_store, i.id) == [
        ("incident.auto_detected", "operators"), ("incident.updated", "operators"),
        ("incident.created", "public"), ("incident.resolved", "public")]


def test_dismissing_a_public_false_alarm_tells_the_public_it_is_over(any_store, clock, page):
    i = any_store.create_incident(
        page.id, name="Users report problems", status=IncidentStatus.INVESTIGATING,
        body="Seen.", now=clock(), auto_detected=True, detected_at=clock())
    any_store.dismiss_incident(i.id, now=clock())
    assert _events(any_store, i.id) == [("incident.created", "public"),
                                        ("incident.resolved", "public")]
