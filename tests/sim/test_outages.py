"""The simulated short-video service: its crowd's rhythm, its outages' reports and
probes, and the labels."""

import itertools
from datetime import UTC, datetime, timedelta, timezone

import numpy as np
import pytest

from signalfire.sim.faults import Fault, outage, schedule, severity
from signalfire.sim.outages import crowd_response, fault_mix, simulate
from signalfire.sim.world import CATEGORIES, COUNTRIES, daily_rhythm, slug, usage

START = datetime(2026, 1, 5, tzinfo=UTC)  # a Monday
DAY = 1440


def run(faults, *, days=4, base=1.0, seed=7, probes=True):
    return simulate(np.random.default_rng(seed), faults, start=START, days=days,
                    base_per_min=base, probes=probes)


def test_reports_follow_the_day_in_each_countrys_own_time():
    sim = run([], days=14, base=20.0, probes=False)
    for code, offset in (("BR", -3), ("JP", 9), ("DE", 1)):
        by_hour = sim.reports[f"reports/country/{code}"].reshape(-1, 24, 60).sum(axis=(0, 2))
        local_evening = (21 - offset) % 24
        local_dawn = (5 - offset) % 24
        assert by_hour[local_evening] > 2.5 * by_hour[local_dawn], code


def test_the_rhythm_has_mean_one_and_a_quiet_night():
    hours = np.arange(0, 24, 0.01)
    assert daily_rhythm(hours).mean() == pytest.approx(1.0, abs=1e-3)
    assert daily_rhythm(np.array([4.5]))[0] < 0.4 < 1.5 < daily_rhythm(np.array([21.0]))[0]


def test_weekends_bring_more_use_than_mondays():
    monday, saturday = usage(np.arange(DAY), start_weekday=0, utc_offset_h=0), \
        usage(np.arange(5 * DAY, 6 * DAY), start_weekday=0, utc_offset_h=0)
    assert saturday.mean() == pytest.approx(1.15 * monday.mean())
    # Day-to-day drift is as large as the weekly rhythm: pool three services' months.
    by_day = sum(run([], days=28, base=30.0, probes=False, seed=seed)
                 .reports["reports/total"].reshape(28, DAY).sum(axis=1) for seed in (1, 2, 3))
    mondays, weekends = by_day[0::7].mean(), (by_day[5::7].mean() + by_day[6::7].mean()) / 2
    assert weekends > 1.05 * mondays


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_global_outage_takes_reports_from_about_15_to_thousands_within_15_minutes(seed):
    # The published case: about 15 reports per 15 minutes before, over 11,000 after.
    onset = 3 * DAY + 20 * 60
    sim = run([outage("global_outage", onset, 90, 900.0)], seed=seed, probes=False)
    total = sim.reports["reports/total"]
    before = total[onset - 120:onset].sum() / 8  # per 15 minutes, the two hours before
    after = total[onset:onset + 15].sum()
    assert 8 <= before <= 40
    assert after > 100 * before
    assert after > 8_000


def test_reports_rise_within_minutes_and_die_down_after_the_recovery():
    response = crowd_response(np.ones(60))
    assert response[0] < 0.15 < 0.5 < response[2]  # noticing and reporting take minutes
    assert response[6] > 0.9
    assert response[60 + 20] < 0.01 * response[59]
    assert np.all(np.diff(response[60:]) < 0)


def test_a_global_outages_reports_say_mostly_app_not_loading():
    onset = 3 * DAY + 18 * 60
    sim = run([outage("global_outage", onset, 60, 500.0, dominant_share=0.79)], probes=False)
    app = sim.reports["reports/category/app-not-loading"]
    share_before = app[:onset].sum() / sim.reports["reports/total"][:onset].sum()
    window = slice(onset + 5, onset + 60)
    share_during = app[window].sum() / sim.reports["reports/total"][window].sum()
    assert share_before == pytest.approx(0.30, abs=0.03)
    assert share_during == pytest.approx(0.79, abs=0.03)


@pytest.mark.parametrize("component", ["Login", "Video upload", "Live"])
def test_a_component_outage_makes_its_category_the_top_one(component):
    onset = 3 * DAY + 18 * 60
    sim = run([outage("component_down", onset, 60, 100.0, components=(component,),
                      dominant_share=0.7)], probes=False)
    window = slice(onset + 5, onset + 60)
    counts = {c: sim.reports[f"reports/category/{slug(c)}"][window].sum() for c in CATEGORIES}
    assert max(counts, key=counts.get) == component
    assert sim.reports[f"reports/component/{slug(component)}"][window].sum() > 0.6 * sum(counts.values())


def test_categories_and_countries_add_up_to_the_total():
    sim = run([outage("regional_outage", 2 * DAY, 60, 200.0, regions=("eu-west",))], probes=False)
    total = sim.reports["reports/total"]
    countries = sum(sim.reports[f"reports/country/{c.code}"] for c in COUNTRIES)
    categories = sum(sim.reports[f"reports/category/{slug(c)}"] for c in CATEGORIES)
    components = sum(v for k, v in sim.reports.items() if k.startswith("reports/component/"))
    assert np.array_equal(countries, total)
    assert np.array_equal(categories, total)
    assert np.array_equal(components, total)


def test_a_regional_outage_is_labelled_where_it_happens_and_nowhere_else():
    onset = 2 * DAY + 20 * 60
    sim = run([outage("regional_outage", onset, 45, 300.0, regions=("sa-east",))])
    labelled = set(sim.windows)
    assert {"reports/total", "reports/country/BR", "reports/country/AR"} <= labelled
    assert "reports/country/JP" not in labelled
    assert "reports/category/app-not-loading" in labelled
    assert "probes/sa-east/feed/failed" in labelled and "probes/sa-east/live/latency_ms" in labelled
    assert not any(key.startswith("probes/eu-west/") for key in labelled)
    assert sim.windows["reports/total"] == [(onset, onset + 45 + 10)]
    assert sim.windows["probes/sa-east/feed/failed"] == [(onset, onset + 45)]
    # ... and it shows there: Brazil reports, São Paulo's probes fail, Frankfurt's do not.
    br = sim.reports["reports/country/BR"]
    assert br[onset + 5:onset + 45].mean() > 20 * br[onset - 60:onset].mean()
    assert sim.probe_failed["probes/sa-east/feed/failed"][onset:onset + 45].all()
    assert sim.probe_failed["probes/eu-west/feed/failed"][onset:onset + 45].sum() <= 1


def test_one_component_down_fails_its_probes_everywhere_and_no_others():
    onset = 2 * DAY + 600
    sim = run([outage("component_down", onset, 30, 10.0, components=("Login",))])
    for region in ("us-east", "eu-west", "ap-northeast"):
        assert sim.probe_failed[f"probes/{region}/login/failed"][onset:onset + 30].all()
        assert f"probes/{region}/feed/failed" not in sim.windows
    assert "reports/category/login" in sim.windows
    # Its few stray reports in other categories are too few to label there.
    assert "reports/category/live" not in sim.windows


def test_a_degradation_slows_the_probes_down_before_they_fail():
    onset = 2 * DAY
    sim = run([outage("degradation", onset, 120, 20.0, components=("Feed",))])
    latency = sim.probe_latency_ms["probes/us-east/feed/latency_ms"]
    failed = sim.probe_failed["probes/us-east/feed/failed"]
    assert np.median(latency[onset:onset + 20]) < 3 * np.median(latency[:onset])
    assert np.median(latency[onset + 60:onset + 80]) > 4 * np.median(latency[:onset])
    assert failed[onset:onset + 60].sum() == 0 and failed[onset + 100:onset + 120].sum() > 5


@pytest.mark.parametrize(("fault", "expected"), [
    (outage("global_outage", 0, 10, 5.0), [1.0] * 10),
    (outage("degradation", 0, 4, 5.0, components=("Feed",)), [0.25, 0.5, 0.75, 1.0]),
    (outage("flapping", 0, 7, 5.0, steps=((0, 1.0), (2, 0.0), (5, 1.0))),
     [1, 1, 0, 0, 0, 1, 1]),
    (outage("partial_recovery", 0, 5, 5.0, steps=((0, 1.0), (2, 0.3))), [1, 1, 0.3, 0.3, 0.3]),
])
def test_severity_over_a_faults_minutes(fault, expected):
    assert severity(fault).tolist() == pytest.approx(expected)


def test_benign_bumps_and_busy_days_raise_reports_but_are_no_outages():
    bump = Fault("benign_bump", 2 * DAY + 600, 2 * DAY + 690, 1.5)
    busy = Fault("busy_day", 3 * DAY, 4 * DAY, 1.8)
    sim = run([bump, busy], days=5, base=30.0, probes=False)
    total = sim.reports["reports/total"]
    assert total[3 * DAY:4 * DAY].sum() > 1.6 * total[DAY:2 * DAY].sum()
    assert total[bump.start_min + 15:bump.end_min - 15].mean() > 1.3 * total[DAY + 615:DAY + 675].mean()
    assert "reports/total" not in sim.windows
    assert not any(record.qualifies for record in sim.faults)


@pytest.mark.parametrize(("magnitude", "qualifies"), [(1.2, False), (2.5, True), (40.0, True)])
def test_an_outage_counts_from_3x_the_usual_reports_and_20_extra_in_its_first_hour(magnitude, qualifies):
    # Peak ratio 1 + magnitude × (tiring, about 0.8 after 40 minutes)... so 2.5 reaches 3×.
    sim = run([outage("global_outage", 2 * DAY + 20 * 60, 60, magnitude)], base=2.0, probes=False)
    (record,) = sim.faults
    assert record.qualifies is qualifies
    assert (record.peak_ratio >= 3.0) is qualifies


def test_a_small_service_does_not_count_an_outage_with_too_few_extra_reports():
    sim = run([outage("component_down", 2 * DAY + 4 * 60, 20, 3.0, components=("Live",))],
              base=0.2, probes=False)
    (record,) = sim.faults
    assert record.peak_ratio >= 3.0 and record.extra_first_hour < 20 and not record.qualifies


def test_the_category_mix_of_a_fault_sums_to_one_with_its_dominant_share():
    mix = fault_mix(outage("component_down", 0, 5, 5.0, components=("Login",), dominant_share=0.6))
    assert mix.sum() == pytest.approx(1.0)
    assert mix[CATEGORIES.index("Login")] == pytest.approx(0.6)


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_a_schedule_keeps_events_apart_after_the_warmup(seed):
    rng = np.random.default_rng(seed)
    faults = schedule(rng, minutes=30 * DAY, outages=14, bumps=3, busy_days=2)
    kinds = [f.kind for f in faults]
    assert kinds.count("busy_day") == 2 and kinds.count("benign_bump") == 3
    assert sum(f.is_outage for f in faults) == 14
    assert len({f.kind for f in faults if f.is_outage}) >= 3
    for earlier, later in itertools.pairwise(faults):
        assert earlier.end_min <= later.start_min
    assert all(f.start_min >= 2 * DAY and f.end_min <= 30 * DAY for f in faults)


def test_the_same_seed_gives_the_same_simulation():
    def once():
        rng = np.random.default_rng(5)
        faults = schedule(rng, minutes=5 * DAY, outages=3)
        return faults, simulate(rng, faults, start=START, days=5)

    (faults_a, a), (faults_b, b) = once(), once()
    assert faults_a == faults_b
    assert all(np.array_equal(a.series()[key], b.series()[key]) for key in a.series())
    assert a.windows == b.windows


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"kind": "meteor"}, "unknown fault kind"),
    ({"end_min": 10}, "ends after it starts"),
    ({"regions": ("mars",)}, "unknown region"),
    ({"components": ("Stories",)}, "unknown region or component"),
])
def test_a_fault_that_cannot_be_refuses_to_exist(kwargs, message):
    fields = {"kind": "global_outage", "start_min": 10, "end_min": 20, "magnitude": 5.0} | kwargs
    with pytest.raises(ValueError, match=message):
        Fault(**fields)


@pytest.mark.parametrize("start", [
    datetime(2026, 1, 5, 12, 0, tzinfo=UTC),
    datetime(2026, 1, 5),
    datetime(2026, 1, 5, tzinfo=timezone(timedelta(hours=2))),
])
def test_simulate_starts_at_a_utc_midnight(start):
    with pytest.raises(ValueError, match="UTC midnight"):
        simulate(np.random.default_rng(1), [], start=start, days=1)


def test_simulate_refuses_no_days():
    with pytest.raises(ValueError):
        run([], days=0)
