"""The demo page: a short-video app with a believable 90-day history, an incident
going on now and a maintenance window coming up."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from signalfire.config.pagefile import apply_pagefile, parse_pagefile
from signalfire.domain.status import ComponentStatus, Impact, IncidentStatus
from signalfire.store import Store

DEMO_PAGEFILE = """
pages:
  - slug: clipstream
    name: Clipstream
    url: https://clipstream.example
    description: Short videos from everyone, everywhere.
    groups:
      - name: Watching
        components:
          - name: Feed
            description: The For You and Following feeds
          - name: Live
            description: Live streams and live chat
      - name: Creating
        components:
          - name: Video upload
            description: Uploading, processing and publishing videos
      - name: Account and social
        components:
          - name: Login
            description: Sign-in, sign-up and sessions
          - name: Messaging
            description: Direct messages and notifications
    components:
      - name: App
        description: The mobile apps and the website
      - name: API
        description: The public developer API
    report_categories: [App not loading, Feed, Video upload, Login, Live, Messages]
"""

DEMO_REGIONS = ("eu-west", "sa-east")
DEMO_COMPONENTS = ("Feed", "Live", "Video upload", "Login", "Messaging", "App", "API")


def demo_pagefile(base_url: str) -> str:
    """The demo page with one HTTP monitor per component against the simulated
    service, probed by the server (region local) and the two demo agents."""
    from signalfire.sim.target import slug

    lines = [DEMO_PAGEFILE.rstrip("\n"), "    monitors:"]
    regions = ", ".join(("local", *DEMO_REGIONS))
    for name in DEMO_COMPONENTS:
        lines += [
            f"      - name: {slug(name)}-http",
            f"        component: {name}",
            "        kind: http",
            f"        target: {base_url}/_demo/target/{slug(name)}",
            "        interval: 10s",
            "        timeout: 3s",
            f"        regions: [{regions}]",
            "        conditions: ['[STATUS] == 200', '[BODY].status == ok']",
            "        degraded_ms: 1000",
            "        failure_threshold: 2",
            "        success_threshold: 2",
        ]
    lines += demo_detection()
    return "\n".join(lines) + "\n"


def demo_detection() -> list[str]:
    """Detection on, incidents published at once and resolved after five quiet
    minutes, so that breaking the demo service tells the whole story within
    minutes; the crowd's countries map to the demo regions whose probes see them."""
    from signalfire.sim.crowd import COUNTRIES

    regions: dict[str, list[str]] = {}
    for country, (_, _, region) in COUNTRIES.items():
        if region:
            regions.setdefault(region, []).append(country)
    lines = ["    detection:", "      publish: auto", "      quiet_period: 5m",
             "      reopen_window: 30m", "      min_count: 3", "      regions:"]
    lines += [f"        {region}: [{', '.join(countries)}]"
              for region, countries in sorted(regions.items())]
    return lines


# (title, components hit, worst status, [(status, text)...])
_PAST = [
    ("Feed loading slowly", ["Feed"], ComponentStatus.DEGRADED_PERFORMANCE, [
        (IncidentStatus.INVESTIGATING, "We are looking into reports of the feed loading slowly."),
        (IncidentStatus.IDENTIFIED,
         "A cache cluster in one region is overloaded; we are adding capacity."),
        (IncidentStatus.RESOLVED, "The feed loads at normal speed again."),
    ]),
    ("Some users cannot log in", ["Login"], ComponentStatus.PARTIAL_OUTAGE, [
        (IncidentStatus.INVESTIGATING, "Some users see an error when logging in. We are investigating."),
        (IncidentStatus.MONITORING,
         "A fix is rolled out and logins are recovering. We are watching closely."),
        (IncidentStatus.RESOLVED, "Logging in works for everyone again."),
    ]),
    ("Video uploads stuck in processing", ["Video upload"], ComponentStatus.PARTIAL_OUTAGE, [
        (IncidentStatus.INVESTIGATING,
         "New uploads are stuck at *Processing*. Already published videos are not affected."),
        (IncidentStatus.IDENTIFIED, "The transcoding queue stalled after a deploy; we are rolling it back."),
        (IncidentStatus.RESOLVED, "The backlog is processed and new uploads publish within a minute."),
    ]),
    ("Live streams dropping", ["Live"], ComponentStatus.MAJOR_OUTAGE, [
        (IncidentStatus.INVESTIGATING, "Live streams are disconnecting for viewers in Europe."),
        (IncidentStatus.IDENTIFIED, "An upstream network provider has a fault; traffic is being moved."),
        (IncidentStatus.MONITORING, "Streams are stable on the new route."),
        (IncidentStatus.RESOLVED, "Live is fully back."),
    ]),
    ("Messages delayed", ["Messaging"], ComponentStatus.DEGRADED_PERFORMANCE, [
        (IncidentStatus.INVESTIGATING, "Direct messages arrive late, by up to a few minutes."),
        (IncidentStatus.RESOLVED, "Messages are delivered instantly again."),
    ]),
    ("API returning errors", ["API"], ComponentStatus.PARTIAL_OUTAGE, [
        (IncidentStatus.INVESTIGATING, "About 5% of API requests return HTTP 503."),
        (IncidentStatus.RESOLVED, "Error rates are back to normal."),
    ]),
    ("App not loading", ["App", "Feed", "Login"], ComponentStatus.MAJOR_OUTAGE, [
        (IncidentStatus.INVESTIGATING, "The app does not load for many users. We are on it."),
        (IncidentStatus.IDENTIFIED, "A configuration change broke the edge routing. Reverting."),
        (IncidentStatus.MONITORING, "The change is reverted and the app loads again. Monitoring."),
        (IncidentStatus.RESOLVED, "Everything is working. A postmortem will follow."),
    ]),
]


def seed_demo(store: Store, *, now: datetime, seed: int = 7) -> str:
    """Fill an empty store with the demo page; returns the page id."""
    rng = random.Random(seed)
    apply_pagefile(store, parse_pagefile(DEMO_PAGEFILE, source="demo"),
                   now - timedelta(days=120))
    page = store.get_page("clipstream")
    by_name = {c.name: c for c in store.list_components(page.id)}

    # Past incidents, oldest first, so component histories stay in order.
    starts = sorted(now - timedelta(days=rng.uniform(2, 88), hours=rng.uniform(0, 23))
                    for _ in range(11))
    for n, start in enumerate(starts):
        title, names, worst, steps = _PAST[n % len(_PAST)]
        ids = [by_name[x].id for x in names]
        at = start
        incident = store.create_incident(
            page.id, name=title, status=steps[0][0], body=steps[0][1], now=at,
            components={i: worst for i in ids})
        for status, text in steps[1:]:
            at += timedelta(minutes=rng.randint(12, 75))
            store.add_update(incident.id, status=status, body=text, now=at)

    past_window = (now - timedelta(days=30)).replace(hour=2, minute=0, second=0, microsecond=0)
    store.create_maintenance(
        page.id, name="Messaging database upgrade", now=past_window - timedelta(days=3),
        body="Messages may be delayed by a few minutes while we upgrade the database.",
        scheduled_for=past_window, scheduled_until=past_window + timedelta(hours=1),
        component_ids=[by_name["Messaging"].id])
    store.advance_maintenance(past_window + timedelta(minutes=1))
    store.advance_maintenance(past_window + timedelta(hours=1, minutes=1))

    # Going on now.
    incident = store.create_incident(
        page.id, name="Video uploads failing in some countries", now=now - timedelta(minutes=42),
        status=IncidentStatus.INVESTIGATING, impact=Impact.MAJOR,
        body="Uploads fail with *Something went wrong* for users in Brazil, Mexico and "
             "Argentina. Watching and live streams are not affected.",
        components={by_name["Video upload"].id: ComponentStatus.PARTIAL_OUTAGE})
    store.add_update(incident.id, status=IncidentStatus.IDENTIFIED, now=now - timedelta(minutes=17),
                     body="A storage region serving Latin America rejects new objects. "
                          "We are moving uploads to another region.")

    tomorrow = (now + timedelta(days=1)).replace(hour=2, minute=0, second=0, microsecond=0)
    store.create_maintenance(
        page.id, name="Login service upgrade", now=now - timedelta(hours=3),
        body="Logging in may take a few seconds longer. Users who are signed in stay signed in.",
        scheduled_for=tomorrow, scheduled_until=tomorrow + timedelta(hours=1),
        component_ids=[by_name["Login"].id])
    return page.id


def demo_now() -> datetime:
    return datetime.now(UTC)
