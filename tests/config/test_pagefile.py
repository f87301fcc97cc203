from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from signalfire.config.pagefile import apply_pagefile, load_pagefile, parse_pagefile
from signalfire.domain.status import ComponentStatus
from signalfire.errors import ConfigError

EXAMPLE = """
pages:
  - slug: app
    name: App
    url: https://app.example.com
    description: The app.
    time_zone: Europe/Amsterdam
    groups:
      - name: Core
        description: What everyone uses.
        components:
          - name: Feed
            description: The home feed.
          - name: Login
            only_show_if_degraded: true
      - name: Media
        components:
          - name: Video upload
    components:
      - name: API
  - slug: docs
    name: Docs
"""


def parse(text: str):
    return parse_pagefile(textwrap.dedent(text))


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigError) as caught:
        parse(text)
    return caught.value.errors


# -- parsing ------------------------------------------------------------------------


def test_it_parses_the_example():
    pagefile = parse(EXAMPLE)

    app, docs = pagefile.pages
    assert (app.slug, app.name, app.url, app.time_zone) == (
        "app", "App", "https://app.example.com", "Europe/Amsterdam")
    assert [g.name for g in app.groups] == ["Core", "Media"]
    assert app.groups[0].components[1].only_show_if_degraded is True
    assert (docs.url, docs.description, docs.time_zone, docs.groups, docs.components) == (
        "", "", "Etc/UTC", [], [])


def test_positions_follow_file_order_groups_first():
    app = parse(EXAMPLE).pages[0]

    placed = [(c.name, g.name if g else None, position)
              for c, g, position in app.placed_components()]

    assert placed == [("Feed", "Core", 0), ("Login", "Core", 1), ("Video upload", "Media", 0),
                      ("API", None, 2)]


def test_an_empty_key_reads_as_an_empty_list():
    page = parse("""
        pages:
          - slug: app
            name: App
            groups:
            description:
    """).pages[0]

    assert (page.groups, page.description) == ([], "")


@pytest.mark.parametrize(("text", "expected"), [
    ("", ["pages: field required"]),
    ("- slug: app", ["(top level): must be a mapping"]),
    ("pages: app", ["pages: must be a list"]),
    ("pages: [{name: App}]", ["pages[0].slug: field required"]),
    ("pages: [{slug: app, name: App, colour: red}]", ["pages[0].colour: unknown key"]),
    ("pages: [{slug: My App, name: App}]",
     ["pages[0].slug: must contain only a-z, 0-9 and '-', got 'My App'"]),
    ("pages: [{slug: app, name: '  '}]", ["pages[0].name: must not be empty"]),
    ("pages: [{slug: app, name: 404}]", ["pages[0].name: must be a string"]),
    ("pages: [{slug: app, name: App, url: app.example.com}]",
     ["pages[0].url: must be an http(s) URL, got 'app.example.com'"]),
    ("pages: [{slug: app, name: App, time_zone: Europe/Amsterdm}]",
     [("pages[0].time_zone: unknown time zone 'Europe/Amsterdm' "
      "(use an IANA name like 'Europe/Amsterdam')")]),
    (("pages: [{slug: app, name: App, groups: [{name: Core, components: [{name: A, "
     "only_show_if_degraded: 'no'}]}]}]"),
     ["pages[0].groups[0].components[0].only_show_if_degraded: must be true or false"]),
    ("pages: [{slug: app, name: App}, {slug: app, name: Other}]",
     ["pages[1].slug: duplicate slug 'app'"]),
    ("pages: [{slug: app, name: App, groups: [{name: Core}, {name: Core}]}]",
     ["pages[0].groups[1].name: duplicate group name 'Core'"]),
    # Component names are unique across a page's groups, as in the store.
    (("pages: [{slug: app, name: App, groups: [{name: Core, components: [{name: Feed}]}], "
     "components: [{name: Feed}]}]"),
     ["pages[0].components[0].name: duplicate component name 'Feed'"]),
])
def test_each_problem_is_reported_with_its_key_path(text, expected):
    assert errors_of(text) == expected


def test_it_reports_every_problem_at_once():
    errors = errors_of("""
        pages:
          - slug: app
            name: App
            colour: red
            groups:
              - name: Core
                components:
                  - name: Feed
                  - description: no name
                  - name: Feed
          - slug: app
            name: Other
    """)

    assert errors == [
        "pages[0].groups[0].components[1].name: field required",
        "pages[0].colour: unknown key",
        "pages[0].groups[0].components[2].name: duplicate component name 'Feed'",
        "pages[1].slug: duplicate slug 'app'",
    ]


@pytest.mark.parametrize(("text", "expected"), [
    ("pages:\n  - slug: app\n   name: App\n",
     ["line 3, column 4: expected <block end>, but found '<block mapping start>'"]),
    ("pages: [\n", ["line 2, column 1: expected the node content, but found '<stream end>'"]),
    # PyYAML would silently keep the last of two equal keys.
    ("pages:\n  - slug: app\n    name: App\n    slug: web\n",
     ["line 4, column 5: duplicate key 'slug'"]),
])
def test_a_yaml_syntax_error_gives_line_and_column(text, expected):
    with pytest.raises(ConfigError) as caught:
        parse_pagefile(text)

    assert caught.value.errors == expected


def test_the_message_names_the_source_and_lists_the_problems(tmp_path):
    path = tmp_path / "pages.yaml"
    path.write_text("pages: [{slug: app}]\n", encoding="utf-8")

    with pytest.raises(ConfigError) as caught:
        load_pagefile(path)

    assert caught.value.message == (
        f"{path}: 1 problem in the page file:\n  pages[0].name: field required")


def test_it_loads_a_file(tmp_path):
    path = tmp_path / "pages.yaml"
    path.write_text(EXAMPLE, encoding="utf-8")

    assert load_pagefile(path) == parse(EXAMPLE)


def test_a_missing_file_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match=r"nope\.yaml: cannot read the page file"):
        load_pagefile(tmp_path / "nope.yaml")


# -- applying -------------------------------------------------------------------------


def snapshot(store):
    """Everything apply may touch, to compare before and after."""
    return [(page, store.list_groups(page.id), store.list_components(page.id))
            for page in store.list_pages()]


def test_applying_creates_pages_groups_and_components(store, clock):
    report = apply_pagefile(store, parse(EXAMPLE), clock())

    assert report.created == [
        "page 'app'", "group 'Core' on page 'app'", "group 'Media' on page 'app'",
        "component 'Feed' on page 'app'", "component 'Login' on page 'app'",
        "component 'Video upload' on page 'app'", "component 'API' on page 'app'",
        "page 'docs'",
    ]
    assert (report.updated, report.kept, report.changed) == ([], [], True)
    app = store.get_page("app")
    assert (app.name, app.url, app.time_zone, app.description) == (
        "App", "https://app.example.com", "Europe/Amsterdam", "The app.")
    groups = {g.name: g for g in store.list_groups(app.id)}
    assert [(g.name, g.position, g.description) for g in groups.values()] == [
        ("Core", 0, "What everyone uses."), ("Media", 1, "")]
    components = {c.name: c for c in store.list_components(app.id)}
    assert {name: (c.group_id, c.position, c.only_show_if_degraded, c.status)
            for name, c in components.items()} == {
        "Feed": (groups["Core"].id, 0, False, ComponentStatus.OPERATIONAL),
        "Login": (groups["Core"].id, 1, True, ComponentStatus.OPERATIONAL),
        "Video upload": (groups["Media"].id, 0, False, ComponentStatus.OPERATIONAL),
        "API": (None, 2, False, ComponentStatus.OPERATIONAL),
    }
    assert components["Feed"].description == "The home feed."


def test_applying_the_same_file_twice_changes_nothing(store, clock):
    apply_pagefile(store, parse(EXAMPLE), clock())
    before = snapshot(store)
    clock.advance(minutes=5)

    report = apply_pagefile(store, parse(EXAMPLE), clock())

    assert (report.created, report.updated, report.kept, report.changed) == ([], [], [], False)
    assert snapshot(store) == before  # not even updated_at moved


def test_a_changed_description_updates_only_that_component(store, clock):
    apply_pagefile(store, parse(EXAMPLE), clock())
    clock.advance(minutes=5)

    report = apply_pagefile(store, parse(EXAMPLE.replace("The home feed.", "Your feed.")),
                            clock())

    assert (report.created, report.updated, report.kept) == (
        [], ["component 'Feed' on page 'app': description"], [])
    feed = next(c for c in store.list_components(store.get_page("app").id) if c.name == "Feed")
    assert (feed.description, feed.updated_at) == ("Your feed.", clock())


def test_moving_and_reordering_is_reported_per_field(store, clock):
    apply_pagefile(store, parse(EXAMPLE), clock())
    moved = EXAMPLE.replace("""
          - name: Video upload
    components:
      - name: API
""", """
          - name: Video upload
          - name: API
""").replace("time_zone: Europe/Amsterdam", "time_zone: Asia/Tokyo")

    report = apply_pagefile(store, parse(moved), clock())

    assert report.updated == ["page 'app': time_zone",
                              "component 'API' on page 'app': group, position"]
    api = next(c for c in store.list_components(store.get_page("app").id) if c.name == "API")
    assert (api.position, api.group_id is not None) == (1, True)


def test_a_removed_component_and_group_are_kept_and_reported(store, clock):
    apply_pagefile(store, parse(EXAMPLE), clock())
    smaller = EXAMPLE.replace("""
      - name: Media
        components:
          - name: Video upload
""", "\n").replace("""
          - name: Login
            only_show_if_degraded: true
""", "\n")

    report = apply_pagefile(store, parse(smaller), clock())

    assert report.kept == [
        "group 'Media' on page 'app' (not in the file)",
        "component 'Video upload' on page 'app' (not in the file)",
        "component 'Login' on page 'app' (not in the file)",
    ]
    app = store.get_page("app")
    assert {c.name for c in store.list_components(app.id)} == {
        "Feed", "Login", "Video upload", "API"}
    assert {g.name for g in store.list_groups(app.id)} == {"Core", "Media"}


def test_applying_never_touches_a_component_status(store, clock):
    apply_pagefile(store, parse(EXAMPLE), clock())
    app = store.get_page("app")
    feed = next(c for c in store.list_components(app.id) if c.name == "Feed")
    store.update_component(feed.id, now=clock(), status=ComponentStatus.MAJOR_OUTAGE)

    apply_pagefile(store, parse(EXAMPLE.replace("The home feed.", "Feed.")), clock())

    assert store.get_component(feed.id).status is ComponentStatus.MAJOR_OUTAGE


def test_a_key_removed_from_the_file_resets_the_field(store, clock):
    apply_pagefile(store, parse(EXAMPLE), clock())

    report = apply_pagefile(store, parse(EXAMPLE.replace("    description: The app.\n", "")),
                            clock())

    assert report.updated == ["page 'app': description"]
    assert store.get_page("app").description == ""


def test_the_documented_example_is_valid():
    docs = Path(__file__).resolve().parents[2] / "docs" / "configuration.md"
    example = docs.read_text(encoding="utf-8").split("```yaml\n", 1)[1].split("```", 1)[0]

    assert [page.slug for page in parse_pagefile(example).pages] == ["app", "docs"]
