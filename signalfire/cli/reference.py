"""docs/cli.md, generated from the commands' own help so it cannot drift.

``python -m signalfire.cli.reference > docs/cli.md`` rewrites it; a test fails
when the file and the commands disagree.
"""

from __future__ import annotations

import click

from signalfire.cli.main import main

HEADER = """# Command line reference

Generated from `signalfire --help` (`make docs` rewrites this file; a test checks
it is current). Every command reads its settings from `SIGNALFIRE_*` environment
variables: see [configuration](configuration.md).
"""


def _walk(cmd: click.Command, path: list[str]) -> list[tuple[list[str], click.Command]]:
    found = [(path, cmd)]
    if isinstance(cmd, click.Group):
        for name in sorted(cmd.commands):
            found += _walk(cmd.commands[name], [*path, name])
    return found


def render() -> str:
    parts = [HEADER]
    for path, cmd in _walk(main, ["signalfire"]):
        with click.Context(cmd, info_name=" ".join(path), terminal_width=88,
                           max_content_width=88) as ctx:
            help_text = cmd.get_help(ctx)
        parts.append(f"## `{' '.join(path)}`\n\n```text\n{help_text}\n```\n")
    return "\n".join(parts)


if __name__ == "__main__":
    print(render(), end="")
