"""Operator channels in the page file."""

from __future__ import annotations

import textwrap

import pytest

from signalfire.config.pagefile import apply_pagefile, parse_pagefile
from signalfire.errors import ConfigError

FILE = """
pages:
  - slug: app
    name: App
    channels:
      - name: ops chat
        kind: apprise
        target: json://127.0.0.1:9/hook
        events: [incident.auto_detected, incident.resolved]
      - name: bridge
        kind: webhook
        target: https://hooks.example.com/sf
"""


def test_channels_are_created_once_and_kept_in_step(store, clock):
    first = apply_pagefile(store, parse_pagefile(FILE), clock())
    assert "channel 'ops chat' on page 'app'" in first.created
    page = store.get_page("app")
    chat, bridge = sorted(store.list_channels(page.id), key=lambda c: c.name != "ops chat")
    assert chat.events == ("incident.auto_detected", "incident.resolved")
    assert bridge.secret is not None and bridge.secret.startswith("whsec_")
    again = apply_pagefile(store, parse_pagefile(FILE), clock())
    assert not again.changed
    moved = apply_pagefile(store, parse_pagefile(FILE.replace("/sf", "/v2")), clock())
    assert moved.updated == ["channel 'bridge' on page 'app'"]
    gone = apply_pagefile(store, parse_pagefile(FILE.split("      - name: bridge")[0]), clock())
    assert gone.kept == ["channel 'bridge' on page 'app' (not in the file)"]


@pytest.mark.parametrize("channel, expected", [
    ("{name: x, kind: apprise, target: 'nosuch://abc'}",
     "pages[0].channels[0]: not a URL Apprise knows"),
    ("{name: x, kind: webhook, target: 'ftp://host/x'}",
     "pages[0].channels[0]: a webhook's target must be an http(s) URL"),
    ("{name: x, kind: email, target: 'nobody'}",
     "pages[0].channels[0]: an email channel's target must be an email address"),
    ("{name: x, kind: apprise, target: 'json://h/x', events: [incident.exploded]}",
     "pages[0].channels[0].events[0]"),
    ("{name: x, kind: pigeon, target: 'coo'}", "pages[0].channels[0].kind"),
])
def test_bad_channels_are_named_by_key_path(channel, expected):
    text = textwrap.dedent(f"""
        pages:
          - slug: app
            name: App
            channels: [{channel}]
        """)
    with pytest.raises(ConfigError) as caught:
        parse_pagefile(text)
    assert any(e.startswith(expected) for e in caught.value.errors), caught.value.errors
