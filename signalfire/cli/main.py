"""``signalfire …``: every command builds what it needs from settings, and nothing more."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from signalfire import __version__
from signalfire.errors import ConfigError, SignalfireError

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def _settings(**overrides: object):  # type: ignore[no-untyped-def]
    from signalfire.config.settings import load_settings

    return load_settings(**{k: v for k, v in overrides.items() if v is not None})


@contextmanager
def _store(settings, *, migrate: bool = True) -> Iterator:  # type: ignore[no-untyped-def]
    from signalfire.store import open_store

    if settings.database_url is None:
        settings.ensure_data_dir()
    store = open_store(settings.resolved_database_url(), migrate=migrate)
    try:
        yield store
    finally:
        store.close()


def _now():  # type: ignore[no-untyped-def]
    from signalfire.engine.clock import system_clock

    return system_clock()


class _Group(click.Group):
    """Turns Signalfire's own errors into one clear line and exit code 2, never a traceback."""

    def invoke(self, ctx: click.Context) -> object:
        try:
            return super().invoke(ctx)
        except ConfigError as exc:
            for line in exc.errors:
                # Escaped: messages quote conditions like [STATUS], which rich
                # would otherwise take for markup and drop.
                err.print(f"[red]error:[/red] {escape(line)}", highlight=False, markup=True)
            sys.exit(2)
        except SignalfireError as exc:
            where = f"{exc.field}: " if exc.field else ""
            err.print(f"[red]error:[/red] {escape(where + exc.message)}", highlight=False)
            sys.exit(2)


@click.group(cls=_Group)
@click.version_option(__version__, prog_name="signalfire")
def main() -> None:
    """Signalfire: detect outages, tell users the truth, fast.

    Settings come from SIGNALFIRE_* environment variables (see docs/configuration.md).
    """


def _configure_logging(settings) -> None:  # type: ignore[no-untyped-def]
    from signalfire.logs import configure

    configure(level=settings.log_level, fmt=settings.log_format)


def _serve(settings, store, *, default_page: str | None) -> None:  # type: ignore[no-untyped-def]
    from signalfire.web.app import create_app

    app = create_app(store, base_url=settings.base_url, max_body_bytes=settings.max_body_bytes,
                     default_page=default_page,
                     retention_days=settings.observation_retention_days,
                     report_retention_days=settings.report_retention_days,
                     trusted_proxies=settings.trusted_proxy_networks(),
                     report_window_s=settings.report_window_minutes * 60.0,
                     report_rate_per_minute=settings.report_rate_per_minute,
                     report_burst=settings.report_burst, smtp=settings.smtp(),
                     notify_hold_s=float(settings.notify_coalesce_seconds))
    _run_uvicorn(app, settings)


@main.command()
@click.option("--host", help="Address to listen on [SIGNALFIRE_HOST].")
@click.option("--port", type=click.IntRange(1, 65535), help="Port [SIGNALFIRE_PORT].")
def serve(host: str | None, port: int | None) -> None:
    """Run the server: migrate the database, apply the page file, serve."""
    settings = _settings(host=host, port=port)
    _configure_logging(settings)
    with _store(settings) as store:
        if settings.page_file:
            from signalfire.config.pagefile import apply_pagefile, load_pagefile

            report = apply_pagefile(store, load_pagefile(settings.page_file), _now())
            _print_report(report)
        if not store.list_pages():
            err.print("warning: no page is configured yet; set SIGNALFIRE_PAGE_FILE "
                      "(see docs/configuration.md)")
        _serve(settings, store, default_page=None)


@main.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None,
              help="Port (default 8000).")
@click.option("--agents/--no-agents", default=True,
              help="Start the two demo probe agents (regions eu-west and sa-east).")
def demo(host: str | None, port: int | None, agents: bool) -> None:
    """Start a demo status page on SQLite: a short-video app with history, an incident
    going on now, an upcoming maintenance, and live monitors of a simulated service
    probed from three regions (this server and two agents)."""
    settings = _settings(host=host, port=port)
    base = f"http://{settings.host}:{settings.port}"
    settings = _settings(host=host, port=port, base_url=base)
    _configure_logging(settings)
    with _store(settings) as store:
        from signalfire.config.pagefile import apply_pagefile, parse_pagefile
        from signalfire.sim.demo import DEMO_COMPONENTS, DEMO_REGIONS, demo_pagefile, seed_demo
        from signalfire.sim.target import Faults, Mount, slug, target_app
        from signalfire.web.app import create_app

        if not store.list_pages():
            seed_demo(store, now=_now())
            out.print("Seeded the demo page 'Clipstream'.")
        apply_pagefile(store, parse_pagefile(demo_pagefile(base), source="demo"), _now())
        _, secret = store.create_token("demo", now=_now())
        faults = Faults(tuple(slug(c) for c in DEMO_COMPONENTS), DEMO_REGIONS)
        # Matches the incident going on in the demo: uploads fail in Latin America.
        faults.set("video-upload", "down", frozenset({"sa-east"}))
        agent_tokens = []
        if agents:
            for a in store.list_agents():
                if a.name.startswith("demo-") and a.revoked_at is None:
                    store.revoke_agent(a.id, now=_now())
            agent_tokens = [(region, store.create_agent(f"demo-{region}", region,
                                                        now=_now())[1])
                            for region in DEMO_REGIONS]
        out.print(f"Data directory: {settings.data_dir.resolve()}")
        out.print(f"Admin API token (shown once): {secret}")
        out.print(f"Status page: {base}/  ·  API docs: {base}/api/docs  ·  "
                  f"break the demo service: {base}/_demo/", highlight=False)
        out.print(f"Signalfire demo running at {base}", highlight=False)
        from signalfire.notify.transports import SmtpConfig
        from signalfire.sim.mailbox import Mailbox

        # The demo's own SMTP server: its mail is shown at /_demo/mail.
        mailbox = Mailbox().start()
        out.print(f"Demo mailbox (email sent to subscribers): {base}/_demo/mail",
                  highlight=False)
        app = create_app(store, base_url=settings.base_url,
                         max_body_bytes=settings.max_body_bytes, default_page="clipstream",
                         smtp=SmtpConfig(host="127.0.0.1", port=mailbox.port,
                                         sender="status@clipstream.example"),
                         notify_hold_s=10.0)
        from signalfire.sim.crowd import LiveCrowd, backfill

        page = store.get_page("clipstream")
        if store.count_raw_reports(page.id) == 0:
            out.print(f"Simulated {backfill(store, page.id, now=_now())} crowd reports "
                      "over the past week.")
        crowd = LiveCrowd(store.add_reports, [s for s, _ in store.report_categories(page.id)],
                          page.id, faults.badness, _now)
        crowd.start()
        processes = [_spawn_agent(base, token, region, settings) for region, token in agent_tokens]
        try:
            _run_uvicorn(Mount(Mount(app, target_app(faults)), mailbox.app(),
                               prefix="/_demo/mail"), settings)
        finally:
            crowd.stop()
            mailbox.stop()
            for proc in processes:
                proc.terminate()
            for proc in processes:
                try:
                    proc.wait(10)
                except Exception:
                    proc.kill()


def _spawn_agent(base: str, token: str, region: str, settings):  # type: ignore[no-untyped-def]
    import os
    import subprocess

    env = {**os.environ, "SIGNALFIRE_DATA_DIR": str(settings.data_dir.resolve())}
    return subprocess.Popen(
        [sys.executable, "-m", "signalfire.cli.main", "agent", "--server", base,
         "--token", token, "--region", region], env=env, stdin=subprocess.DEVNULL)


def _run_uvicorn(app, settings) -> None:  # type: ignore[no-untyped-def]
    import uvicorn

    uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level,
                access_log=False, server_header=False,
                # Who the client is behind a proxy is decided by trusted proxies
                # (reports); uvicorn must not rewrite it on its own.
                proxy_headers=False)


# -- db ---------------------------------------------------------------------------

@main.group()
def db() -> None:
    """The database schema."""


@db.command("upgrade")
def db_upgrade() -> None:
    """Create or migrate the schema to the latest version."""
    from signalfire.store.engine import current_revision

    settings = _settings()
    with _store(settings) as store:
        out.print(f"database at revision {current_revision(store.engine)}")


@db.command("current")
def db_current() -> None:
    """Print the schema revision the database is at."""
    from signalfire.store.engine import current_revision

    settings = _settings()
    with _store(settings, migrate=False) as store:
        out.print(current_revision(store.engine) or "empty (run: signalfire db upgrade)")


# -- config -------------------------------------------------------------------------

@main.group()
def config() -> None:
    """The page file (YAML) and settings."""


@config.command("validate")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def config_validate(file: Path) -> None:
    """Check a page file and report every error with its key path."""
    from signalfire.config.pagefile import load_pagefile

    pagefile = load_pagefile(file)
    pages = len(pagefile.pages)
    out.print(f"{file}: ok ({pages} page{'s' if pages != 1 else ''})", highlight=False)


@config.command("apply")
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
def config_apply(file: Path) -> None:
    """Apply a page file to the database now (``serve`` also does this at start)."""
    from signalfire.config.pagefile import apply_pagefile, load_pagefile

    pagefile = load_pagefile(file)
    with _store(_settings()) as store:
        _print_report(apply_pagefile(store, pagefile, _now()))


def _print_report(report) -> None:  # type: ignore[no-untyped-def]
    for line in report.created:
        out.print(f"created {line}", highlight=False)
    for line in report.updated:
        out.print(f"updated {line}", highlight=False)
    for line in report.kept:
        err.print(f"warning: {line} is not in the page file; kept (delete it through the API)",
                  highlight=False)
    if not report.changed:
        out.print("nothing to change")


# -- tokens ---------------------------------------------------------------------------

@main.group()
def token() -> None:
    """API tokens for the admin API."""


@token.command("create")
@click.option("--name", required=True, help="Who or what uses the token.")
def token_create(name: str) -> None:
    """Create a token and print it. It is shown once; only its hash is stored."""
    with _store(_settings()) as store:
        _, secret = store.create_token(name, now=_now())
    click.echo(secret)


@token.command("list")
def token_list() -> None:
    """List tokens (never their secrets)."""
    with _store(_settings()) as store:
        table = Table("id", "name", "created", "last used")
        for t in store.list_tokens():
            table.add_row(t.id, t.name, t.created_at.isoformat(timespec="seconds"),
                          t.last_used_at.isoformat(timespec="seconds") if t.last_used_at else "-")
        out.print(table)


@token.command("revoke")
@click.argument("token_id")
def token_revoke(token_id: str) -> None:
    """Revoke a token by its id."""
    with _store(_settings()) as store:
        store.revoke_token(token_id)
    out.print(f"revoked {token_id}")


# -- probe agents -----------------------------------------------------------------------

@main.command()
@click.option("--server", required=True, envvar="SIGNALFIRE_AGENT_SERVER",
              help="Base URL of the Signalfire server [SIGNALFIRE_AGENT_SERVER].")
@click.option("--token", required=True, envvar="SIGNALFIRE_AGENT_TOKEN",
              help="This agent's token from `signalfire agents create` [SIGNALFIRE_AGENT_TOKEN].")
@click.option("--region", required=True, envvar="SIGNALFIRE_AGENT_REGION",
              help="The region this agent probes from; must match its token's region.")
@click.option("--queue", "queue_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="Local queue file (default: agent-<region>.db in the data dir).")
@click.option("--canary", "canaries", multiple=True, envvar="SIGNALFIRE_AGENT_CANARIES",
              help="host:port that must accept a TCP connection for failed checks to be "
                   "reported (self-check); repeat, or separate with commas/spaces "
                   "[SIGNALFIRE_AGENT_CANARIES]. None by default.")
def agent(server: str, token: str, region: str, queue_path: Path | None,
          canaries: tuple[str, ...]) -> None:
    """Run a probe agent: pull this region's monitors, run them, push observations.

    Observations wait in a local SQLite queue while the server is unreachable
    and are delivered later, each exactly once.
    """
    from signalfire.agent.main import parse_canaries, run_agent

    settings = _settings()
    _configure_logging(settings)
    if queue_path is None:
        queue_path = settings.ensure_data_dir() / f"agent-{region}.db"
    run_agent(server=server, token=token, region=region, queue_path=queue_path,
              canaries=parse_canaries(canaries))


@main.group()
def agents() -> None:
    """Tokens for probe agents in other regions."""


@agents.command("create")
@click.option("--name", required=True, help="A name for the agent (e.g. eu-west-1).")
@click.option("--region", required=True, help="The region it probes from (e.g. eu-west).")
def agents_create(name: str, region: str) -> None:
    """Create an agent token and print it (shown once)."""
    import re

    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", region):
        raise click.BadParameter("use a-z, 0-9, '-' and '_' (e.g. eu-west)", param_hint="--region")
    with _store(_settings()) as store:
        _, secret = store.create_agent(name, region, now=_now())
    click.echo(secret)


@agents.command("list")
def agents_list() -> None:
    """List agents, their regions and when they last reported."""
    with _store(_settings()) as store:
        table = Table("id", "name", "region", "last seen", "revoked")
        for a in store.list_agents():
            table.add_row(a.id, a.name, a.region,
                          a.last_seen_at.isoformat(timespec="seconds") if a.last_seen_at else "-",
                          a.revoked_at.isoformat(timespec="seconds") if a.revoked_at else "-")
        out.print(table)


@agents.command("revoke")
@click.argument("agent_id")
def agents_revoke(agent_id: str) -> None:
    """Revoke an agent's token: its next request is refused."""
    with _store(_settings()) as store:
        store.revoke_agent(agent_id, now=_now())
    out.print(f"revoked {agent_id}")


# -- import -----------------------------------------------------------------------------

@main.group(name="import")
def import_() -> None:
    """Bring history from elsewhere."""


@import_.command("statuspage-feed")
@click.argument("source")
@click.option("--page", "page_slug", default=None,
              help="Slug of the page to import into (default: the first page).")
def import_statuspage_feed(source: str, page_slug: str | None) -> None:
    """Import a Statuspage page's incident history from its Atom/RSS feed (file or URL)."""
    from signalfire.importers.statuspage_feed import import_feed

    with _store(_settings()) as store:
        pages = store.list_pages()
        if page_slug:
            page = store.get_page(page_slug)
        elif pages:
            page = pages[0]
        else:
            raise ConfigError("no page to import into: apply a page file first "
                              "(signalfire config apply FILE)")
        report = import_feed(store, page.id, source)
    out.print(f"imported {report.imported} incidents into '{page.slug}', "
              f"skipped {report.skipped} already there", highlight=False)
    for line in report.failed:
        err.print(f"warning: {line}", highlight=False)


from signalfire.cli.simulate import simulate  # noqa: E402

main.add_command(simulate)
from signalfire.cli.detect import detect  # noqa: E402

main.add_command(detect)

if __name__ == "__main__":
    main()
