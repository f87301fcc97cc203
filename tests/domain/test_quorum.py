from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from signalfire.domain.probe import Monitor, MonitorKind, Observation
from signalfire.domain.quorum import (
    ComponentStatusVerdict,
    RegionState,
    advance,
    component_status,
    default_stale_after_s,
)
from signalfire.domain.status import ComponentStatus as C

T0 = datetime(2026, 6, 1, 12, 0, tzinfo=UTC)
REGIONS = ("eu-west", "us-east", "ap-south")


def mon(id="m", name="API", **kw) -> Monitor:
    kw = {"regions": REGIONS, "degraded_ms": 500.0, **kw}
    return Monitor(id=id, page_id="p", component_id="c", name=name, kind=MonitorKind.HTTP, **kw)


def obs(ok: bool, minute: float, *, region="eu-west", ms=100.0, monitor_id="m") -> Observation:
    at = T0 + timedelta(minutes=minute)
    return Observation(id=f"{monitor_id}-{region}-{minute}", monitor_id=monitor_id, region=region,
                       at=at, ok=ok, duration_ms=ms)


def feed(pattern: str, monitor: Monitor | None = None) -> tuple[list[RegionState], list[bool]]:
    """Feed 'o' (success) and 'x' (failure), one a minute; states and flip flags after each."""
    monitor = monitor or mon()
    state, states, flips = None, [], []
    for i, ch in enumerate(pattern):
        state, flipped = advance(state, obs(ch == "o", i), monitor)
        states.append(state)
        flips.append(flipped)
    return states, flips


UP = {"?": None, "U": True, "D": False}


# Each step: the verdict after it (? unknown, U up, D down). Thresholds 3 failures / 2 successes.
@pytest.mark.parametrize(("pattern", "verdicts"), [
    ("oo", "?U"),
    ("xxx", "??D"),
    ("o", "?"),
    ("xx", "??"),
    # Flapping before any verdict never reaches a threshold: it stays unknown.
    ("oxoxoxox", "????????"),
    ("xxoxxo", "??????"),
    # A success resets the failure count, and the other way round.
    ("ooxxoxxxoo", "?UUUUUUDDU"),
    # Flapping while up never adds three failures in a row; while down never two successes.
    ("ooxxoxxoxxo", "?UUUUUUUUUU"),
    ("xxxoxoxox", "??DDDDDDD"),
    ("xxxooxxxoo", "??DDUUUDDU"),
])
def test_it_flips_only_after_the_thresholds(pattern, verdicts):
    states, flips = feed(pattern)
    assert [s.up for s in states] == [UP[v] for v in verdicts]
    previous = [None, *(UP[v] for v in verdicts[:-1])]
    assert flips == [UP[v] != before for v, before in zip(verdicts, previous, strict=True)]


def test_it_counts_runs_and_remembers_the_last_check():
    states, _ = feed("ooxx")
    last = states[-1]
    assert (last.consecutive_failures, last.consecutive_successes) == (2, 0)
    assert last.last_at == T0 + timedelta(minutes=3)
    assert last.last_ok is False and last.last_duration_ms == 100.0
    assert (last.monitor_id, last.region) == ("m", "eu-west")


def test_changed_at_is_the_time_of_the_observation_that_flipped():
    states, _ = feed("ooxxxoo")
    assert [s.changed_at for s in states] == [
        None, *[T0 + timedelta(minutes=1)] * 3, *[T0 + timedelta(minutes=4)] * 2, T0 + timedelta(minutes=6)
    ]


@pytest.mark.parametrize(("failure_threshold", "success_threshold", "pattern", "verdicts"), [
    (1, 1, "oxo", "UDU"),
    # A threshold below 1 could never be reached by a count; it acts as 1.
    (0, 0, "xo", "DU"),
    (2, 3, "oooxx", "??UUD"),
])
def test_thresholds_come_from_the_monitor(failure_threshold, success_threshold, pattern, verdicts):
    states, _ = feed(pattern, mon(failure_threshold=failure_threshold, success_threshold=success_threshold))
    assert [s.up for s in states] == [UP[v] for v in verdicts]


@pytest.mark.parametrize("late_minute", [0, 2, 4])
def test_a_late_or_repeated_observation_does_not_rewind_the_state(late_minute):
    # Down at minute 2, up again at minute 4; the agent then delivers an older failure.
    states, _ = feed("xxxoo")
    state = states[-1]
    again, flipped = advance(state, obs(False, late_minute), mon())
    assert again is state and flipped is False


def test_a_late_success_does_not_close_an_outage():
    states, _ = feed("oxxx")
    again, flipped = advance(states[-1], obs(True, 0.5), mon())
    assert again.up is False and flipped is False


@pytest.mark.parametrize(("checks", "degraded_ms", "slow"), [
    ([(True, 900)], 500.0, True),
    ([(True, 500)], 500.0, False),  # at the limit is not over it
    ([(True, 100)], 500.0, False),
    ([(True, 900)], None, False),
    # A failure says nothing about speed: the last success still decides.
    ([(True, 900), (False, 10_000)], 500.0, True),
    ([(True, 100), (False, 10_000)], 500.0, False),
    ([(True, 900), (True, 100)], 500.0, False),
])
def test_slow_follows_the_last_successful_check(checks, degraded_ms, slow):
    monitor, state = mon(degraded_ms=degraded_ms), None
    for minute, (ok, ms) in enumerate(checks):
        state, _ = advance(state, obs(ok, minute, ms=ms), monitor)
    assert state.slow is slow


def test_it_refuses_an_observation_of_another_monitor():
    with pytest.raises(ValueError, match="monitor 'other'"):
        advance(None, obs(True, 0, monitor_id="other"), mon())


@pytest.mark.parametrize("state", [
    RegionState(monitor_id="m", region="us-east"),
    RegionState(monitor_id="other", region="eu-west"),
])
def test_it_refuses_the_state_of_another_region_or_monitor(state):
    with pytest.raises(ValueError, match="given with the state of"):
        advance(state, obs(True, 0), mon())


# component_status ---------------------------------------------------------------------------

NOW = T0 + timedelta(hours=1)


def st(region: str, up: bool | None, *, age_s: float = 30, slow: bool = False, monitor_id="m") -> RegionState:
    return RegionState(monitor_id=monitor_id, region=region, up=up, last_at=NOW - timedelta(seconds=age_s),
                       slow=slow)


def verdict_of(*states: RegionState, monitor: Monitor | None = None, **kw) -> ComponentStatusVerdict:
    return component_status([(monitor or mon(), states)], now=NOW, **kw)


FOUR = ("eu-west", "us-east", "ap-south", "sa-east")


@pytest.mark.parametrize(("regions", "states", "status", "reason"), [
    (REGIONS, [st("eu-west", True), st("us-east", True), st("ap-south", True)],
     C.OPERATIONAL, "up in eu-west, us-east, ap-south (3 of 3 reporting regions)"),
    (REGIONS, [st("eu-west", True), st("us-east", True, slow=True), st("ap-south", True)],
     C.DEGRADED_PERFORMANCE, "slow in us-east (1 of 3 reporting regions, over 500 ms)"),
    (REGIONS, [st("eu-west", False), st("us-east", True), st("ap-south", True)],
     C.PARTIAL_OUTAGE, "down in eu-west (1 of 3 reporting regions)"),
    (REGIONS, [st("eu-west", False), st("us-east", False), st("ap-south", True)],
     C.MAJOR_OUTAGE, "down in eu-west, us-east (2 of 3 reporting regions)"),
    (REGIONS, [st("eu-west", False), st("us-east", False), st("ap-south", False)],
     C.MAJOR_OUTAGE, "down in eu-west, us-east, ap-south (3 of 3 reporting regions)"),
    # Exactly half is a partial outage.
    (FOUR, [st("eu-west", False), st("us-east", False), st("ap-south", True), st("sa-east", True)],
     C.PARTIAL_OUTAGE, "down in eu-west, us-east (2 of 4 reporting regions)"),
    (REGIONS[:2], [st("eu-west", False), st("us-east", True)],
     C.PARTIAL_OUTAGE, "down in eu-west (1 of 2 reporting regions)"),
    # One region reporting, and it is down: that is all we know.
    (("local",), [st("local", False)], C.MAJOR_OUTAGE, "down in local (1 of 1 reporting region)"),
    (("local",), [st("local", True)], C.OPERATIONAL, "up in local (1 of 1 reporting region)"),
    # Down beats slow.
    (REGIONS, [st("eu-west", False), st("us-east", True, slow=True), st("ap-south", True)],
     C.PARTIAL_OUTAGE, "down in eu-west (1 of 3 reporting regions)"),
    # Silent regions count neither way: one down of the two still reporting is half.
    (REGIONS, [st("eu-west", False), st("us-east", True), st("ap-south", False, age_s=3600)],
     C.PARTIAL_OUTAGE, "down in eu-west (1 of 2 reporting regions); no recent report from ap-south"),
    (REGIONS, [st("eu-west", False), st("us-east", True, age_s=211), st("ap-south", False, age_s=211)],
     C.MAJOR_OUTAGE,
     "down in eu-west (1 of 1 reporting region); no recent report from us-east, ap-south"),
    # A region with no state at all, or one that never got an observation, is silent too.
    (REGIONS, [st("eu-west", True), RegionState(monitor_id="m", region="us-east")],
     C.OPERATIONAL, "up in eu-west (1 of 1 reporting region); no recent report from us-east, ap-south"),
    # Pending regions report but have no verdict yet: they do not count either.
    (REGIONS, [st("eu-west", False), st("us-east", None), st("ap-south", True)],
     C.PARTIAL_OUTAGE, "down in eu-west (1 of 2 reporting regions); no verdict yet in us-east"),
    (REGIONS, [st("eu-west", None), st("us-east", None, age_s=999)],
     None, "no region reporting; no recent report from us-east, ap-south; no verdict yet in eu-west"),
    (REGIONS, [], None, "no region reporting; no recent report from eu-west, us-east, ap-south"),
    # A state of a region the monitor no longer probes from says nothing.
    (("eu-west",), [st("eu-west", True), st("us-east", False)],
     C.OPERATIONAL, "up in eu-west (1 of 1 reporting region)"),
])
def test_status_from_the_regions_of_one_monitor(regions, states, status, reason):
    verdict = verdict_of(*states, monitor=mon(regions=regions))
    assert (verdict.status, verdict.reason) == (status, reason)
    assert verdict.monitor_id == "m"


def test_the_verdict_lists_the_regions_by_kind_in_monitor_order():
    verdict = verdict_of(
        st("sa-east", True, slow=True), st("ap-south", False), st("us-east", None), st("eu-west", True),
        monitor=mon(regions=(*FOUR, "af-south")),
    )
    assert verdict.up_regions == ("eu-west", "sa-east")
    assert verdict.slow_regions == ("sa-east",)
    assert verdict.down_regions == ("ap-south",)
    assert verdict.pending_regions == ("us-east",)
    assert verdict.silent_regions == ("af-south",)


@pytest.mark.parametrize(("age_s", "silent"), [
    (210, False),  # 3 × 60 s + 30 s is the limit
    (211, True),
    (-600, False),  # an agent clock ahead of ours is not silence
])
def test_a_region_is_silent_after_three_intervals_and_half_a_minute(age_s, silent):
    verdict = verdict_of(st("eu-west", True, age_s=age_s), monitor=mon(regions=("eu-west",)))
    assert (verdict.silent_regions == ("eu-west",)) is silent
    assert default_stale_after_s(mon(interval_s=30)) == 120


def test_the_silence_limit_can_be_given():
    verdict = verdict_of(st("eu-west", True, age_s=61), monitor=mon(regions=("eu-west",)),
                         stale_after=lambda m: m.interval_s)
    assert verdict.status is None and verdict.silent_regions == ("eu-west",)


def test_slow_needs_a_degraded_limit_on_the_monitor():
    # The limit was removed from the config since the state was written.
    verdict = verdict_of(st("eu-west", True, slow=True), monitor=mon(regions=("eu-west",), degraded_ms=None))
    assert verdict.status is C.OPERATIONAL and verdict.slow_regions == ()


def test_degraded_limit_is_shown_without_trailing_zeros():
    verdict = verdict_of(st("eu-west", True, slow=True), monitor=mon(regions=("eu-west",), degraded_ms=1500.5))
    assert verdict.reason == "slow in eu-west (1 of 1 reporting region, over 1500.5 ms)"


# Several monitors on one component: (monitor id, states) per monitor, all on REGIONS.
def up_all(mid):
    return [st(r, True, monitor_id=mid) for r in REGIONS]


def down_in(mid, *down):
    return [st(r, r not in down, monitor_id=mid) for r in REGIONS]


@pytest.mark.parametrize(("monitors", "status", "monitor_id", "reason"), [
    ([("a", up_all("a")), ("b", down_in("b", "eu-west"))],
     C.PARTIAL_OUTAGE, "b", "b name: down in eu-west (1 of 3 reporting regions)"),
    ([("a", down_in("a", "eu-west", "us-east")), ("b", down_in("b", "eu-west"))],
     C.MAJOR_OUTAGE, "a", "a name: down in eu-west, us-east (2 of 3 reporting regions)"),
    # Equal severity: the monitor listed first decides.
    ([("a", down_in("a", "us-east")), ("b", down_in("b", "eu-west"))],
     C.PARTIAL_OUTAGE, "a", "a name: down in us-east (1 of 3 reporting regions)"),
    # A monitor with no verdict is unknown, not healthy, and not worse than healthy.
    ([("a", []), ("b", up_all("b"))],
     C.OPERATIONAL, "b", "b name: up in eu-west, us-east, ap-south (3 of 3 reporting regions)"),
    ([("a", []), ("b", [])],
     None, "a", "a name: no region reporting; no recent report from eu-west, us-east, ap-south"),
])
def test_the_worst_monitor_decides(monitors, status, monitor_id, reason):
    verdict = component_status([(mon(mid, f"{mid} name"), states) for mid, states in monitors], now=NOW)
    assert (verdict.status, verdict.monitor_id, verdict.reason) == (status, monitor_id, reason)


def test_disabled_monitors_are_left_out():
    paused = mon("a", "a name", enabled=False)
    verdict = component_status([(paused, down_in("a", *REGIONS)), (mon("b", "b name"), up_all("b"))], now=NOW)
    # Only one monitor counts, so the reason needs no monitor name.
    assert verdict.status is C.OPERATIONAL and verdict.reason.startswith("up in")
    assert component_status([(paused, down_in("a", *REGIONS))], now=NOW) == ComponentStatusVerdict(
        status=None, reason="no enabled monitor")
    assert component_status([], now=NOW).status is None


def test_it_refuses_states_of_another_monitor_or_two_for_one_region():
    with pytest.raises(ValueError, match="state of monitor 'x'"):
        verdict_of(st("eu-west", True, monitor_id="x"))
    with pytest.raises(ValueError, match="two states"):
        verdict_of(st("eu-west", True), st("eu-west", False))


def test_one_region_failing_three_times_makes_a_partial_outage():
    monitor, states = mon(), {}
    for minute in range(5):
        for region in REGIONS:
            ok = region != "eu-west" or minute < 2
            states[region], _ = advance(states.get(region), obs(ok, minute, region=region), monitor)
    now = T0 + timedelta(minutes=5)
    verdict = component_status([(monitor, list(states.values()))], now=now)
    assert verdict.status is C.PARTIAL_OUTAGE and verdict.down_regions == ("eu-west",)
    assert states["eu-west"].changed_at == T0 + timedelta(minutes=4)
    # The agents in the other regions stop reporting: one region left, and it is down.
    alone = [states["eu-west"], replace(states["us-east"], last_at=T0 - timedelta(hours=1)),
             replace(states["ap-south"], last_at=None)]
    assert component_status([(monitor, alone)], now=now).status is C.MAJOR_OUTAGE
