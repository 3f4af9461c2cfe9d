"""The README is the manual: every command of the real command tree, and each option, is in it.

The tree is walked from the typer app itself (`cli.app.app`, sub-apps such as
`org` included), so a new command or option that the README does not mention
fails here; no hand-kept list to forget.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer.main

from flowspec_telemetry.cli import fast
from flowspec_telemetry.cli.app import app
from tests.conftest import run_cli

README = (Path(__file__).parents[1] / "README.md").read_text(encoding="utf-8")


def _walk(command: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], Any]]:
    subcommands = getattr(command, "commands", None)
    if subcommands:
        for name, sub in sorted(subcommands.items()):
            yield from _walk(sub, (*path, name))
    else:
        yield path, command


TREE = dict(_walk(typer.main.get_command(app)))


def test_the_tree_is_the_real_one() -> None:
    assert {("status",), ("track",), ("hook",), ("org", "ingest"), ("report",)} <= set(TREE)
    assert len(TREE) >= 20


@pytest.mark.parametrize("path", sorted(TREE), ids=" ".join)
def test_every_command_has_help_and_is_in_the_readme(path: tuple[str, ...]) -> None:
    name = " ".join(path)
    assert f"flowspec-telemetry {name}" in README, f"the README does not show `{name}`"
    command = TREE[path]
    assert not command.hidden
    assert (command.help or "").strip(), f"`{name}` has no help text"
    result = run_cli(*path, "--help")
    assert result.returncode == 0, result.stderr
    assert "Usage:" in result.stdout
    assert result.stderr == ""


@pytest.mark.parametrize("path", sorted(TREE), ids=" ".join)
def test_every_option_of_every_command_is_in_the_readme(path: tuple[str, ...]) -> None:
    options = [o for p in TREE[path].params for o in getattr(p, "opts", ()) if o.startswith("--")]
    if path == ("track",):  # parsed by the fast path, not by typer
        options = re.findall(r"^\s+(?:-\w, )?(--[a-z-]+)", fast.TRACK_USAGE, re.MULTILINE)
        assert "--role" in options
    missing = [o for o in options if not re.search(rf"{re.escape(o)}(?![\w-])", README)]
    assert missing == [], f"`{' '.join(path)}` options not in the README: {missing}"
