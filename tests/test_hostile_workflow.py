"""Hostile workflow files (issue 12 "bad input", issue 13.3 and 13.5), as a class.

A generated family of malformed, exponential and special inputs; for each,
every entry point that reads the catalog answers within a time bound, falls
back to the built-in catalog, says why in `status`, and the team policy fails
closed where a policy might be hidden.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from flowspec_telemetry.consent.status import gather
from flowspec_telemetry.core import roles
from flowspec_telemetry.core.roles import DEFAULT_CATALOG, load_catalog
from flowspec_telemetry.core.tracker import Tracker

from .conftest import CONSOLE_SCRIPT, read_events

TIME_BOUND = 2.0  # seconds per call, generous for a loaded CI machine


def _alias_bomb(levels: int) -> str:
    lines = ['a0: &a0 ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]']
    for i in range(1, levels):
        refs = ", ".join([f"*a{i - 1}"] * 9)
        lines.append(f"a{i}: &a{i} [{refs}]")
    lines.append(f"telemetry:\n  enabled: *a{levels - 1}")
    return "\n".join(lines) + "\n"


def _backtracker(n: int) -> str:
    # what made the old veto regex backtrack exponentially: many indented lines
    # after `telemetry:` and no `enabled:` line, in a file YAML cannot parse
    return "roles: [unclosed\ntelemetry:\n" + "  x: y\n  - z\n" * n + "  enabled false\n"


# name -> (content writer, expected word in the catalog source, team policy expected)
Writer = Callable[[Path], None]


def _text(content: str | bytes) -> Writer:
    def write(path: Path) -> None:
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content)

    return write


def _fifo(path: Path) -> None:
    os.mkfifo(path)


def _symlink(target: str) -> Writer:
    def write(path: Path) -> None:
        path.symlink_to(target)

    return write


def _sparse(size: int) -> Writer:
    def write(path: Path) -> None:
        with path.open("wb") as fh:
            fh.truncate(size)

    return write


HOSTILE: dict[str, tuple[Writer, str, bool | None]] = {
    **{
        f"alias-bomb-{n}": (_text(_alias_bomb(n)), "aliases", False)
        for n in (7, 9, 12, 30)
    },
    # a few aliases are fine YAML: parsed, and a list as `enabled` is no yes
    "alias-small-3": (_text(_alias_bomb(3)), "flowspec_workflow.yml", False),
    **{
        f"deep-nesting-{n}": (_text("roles: " + "[" * n + "]" * n + "\n"), "nest", None)
        for n in (60, 1000, 100_000)
    },
    **{f"backtracking-{n}": (_text(_backtracker(n)), "malformed", False) for n in (30, 300, 3000)},
    "fifo": (_fifo, "a FIFO", False),
    "dev-stdin": (_symlink("/dev/stdin"), "a symbolic link", False),
    "dev-zero": (_symlink("/dev/zero"), "a symbolic link", False),
    "symlink-to-a-good-file": (_symlink("/etc/hostname"), "a symbolic link", False),
    "50-MB": (_sparse(50 << 20), "larger than 1 MiB", False),
    "not-utf8": (_text(b"roles:\n  definitions:\n    dev: {display_name: \"\xff\xfe\"}\n"), "not UTF-8", False),
    "not-utf8-with-policy": (_text(b"\xfftelemetry:\n  enabled: true\n"), "not UTF-8", False),
    "list-at-root": (_text("- roles\n- workflows\n"), "a list", None),
    "scalar-at-root": (_text("42\n"), "not a mapping", None),
    "many-nodes": (_text("k: [" + "1," * 120_000 + "1]\n"), "YAML nodes", None),
}  # fmt: skip


@pytest.fixture(autouse=True)
def _fresh_caches() -> None:
    roles._memory.clear()


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_every_reader_answers_at_once_with_the_built_in_catalog(consented: Path, name: str) -> None:
    write, why, policy = HOSTILE[name]
    path = consented / "flowspec_workflow.yml"
    path.unlink()
    write(path)
    started = time.monotonic()
    catalog = load_catalog(consented)
    assert time.monotonic() - started < TIME_BOUND
    assert catalog.known_commands == DEFAULT_CATALOG.known_commands
    assert why in catalog.source, catalog.source
    assert catalog.team_telemetry is policy

    roles._memory.clear()
    started = time.monotonic()
    data = gather(consented)
    assert time.monotonic() - started < TIME_BOUND
    assert why in data["catalog"]
    if policy is False:
        assert data["team_policy_detail"]["allows"] is False
        assert data["rule"] == "team_policy" and data["enabled"] is False

    roles._memory.clear()
    started = time.monotonic()
    event_id = Tracker().track("role.selected", role="dev", project_root=consented)
    assert time.monotonic() - started < TIME_BOUND
    assert (event_id is None) is (policy is False)  # a hidden policy is a veto


@pytest.mark.parametrize("name", ["fifo", "alias-bomb-12", "backtracking-3000", "50-MB"])
def test_the_console_script_and_the_hook_return_at_once(consented: Path, name: str) -> None:
    write, _, _ = HOSTILE[name]
    path = consented / "flowspec_workflow.yml"
    path.unlink()
    write(path)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("FLOWSPEC_", "DO_NOT_"))}
    for argv, stdin in (
        (["track", "role.selected", "--role", "dev"], b""),
        (
            ["hook", "claude-code"],
            b'{"hook_event_name": "UserPromptSubmit", "prompt": "/flow:plan"}',
        ),
        (["status"], b""),
    ):
        started = time.monotonic()
        done = subprocess.run(
            [str(CONSOLE_SCRIPT), *argv],
            cwd=consented,
            env=env,
            input=stdin,
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert time.monotonic() - started < 10 * TIME_BOUND, argv
        assert done.returncode == 0, done.stderr
    assert read_events(consented) == []  # each of these hides a possible veto


@pytest.mark.parametrize(
    ("written", "allows"),
    [
        ("telemetry: false", False),
        ("telemetry: 'false'", False),
        ("telemetry: {enabled: 'false'}", False),
        ("telemetry: {enabled: 0}", False),
        ("telemetry: {enabled: 'no'}", False),
        ("telemetry: {enabled: off}", False),
        ("telemetry: {enabled: maybe}", False),
        ("telemetry: {}", False),
        ("telemetry:", False),
        ("telemetry: {enabled: [true]}", False),
        ("metadata: {telemetry: {enabled: false}}", False),
        ("metadata: {telemetry: false}", False),
        ("metadata: {telemetry: {enabled: 'No'}}", False),
        ("metadata: {telemetry: {enabled: true}}", True),
        ("metadata: {telemetry: {enabled: 'yes'}}", True),
        ("telemetry: {enabled: true}", True),
        ("telemetry: {enabled: true}\nmetadata: {telemetry: {enabled: false}}", False),
        ("telemetry: {enabled: false}\nmetadata: {telemetry: {enabled: true}}", False),
    ],
)
def test_the_veto_fails_closed_and_status_names_file_key_and_value(
    project: Path, written: str, allows: bool
) -> None:
    (project / "flowspec_workflow.yml").write_text("version: '2.0'\n" + written + "\n")
    data = gather(project)
    detail = data["team_policy_detail"]
    assert detail["allows"] is allows
    assert detail["file"] == "flowspec_workflow.yml"
    assert detail["key"].split(".")[0] in ("telemetry", "metadata")
    assert data["team_policy"] is allows


def test_a_flow_style_veto_in_a_broken_file_still_vetoes(project: Path) -> None:
    (project / "flowspec_workflow.yml").write_text("roles: [broken\n{telemetry: {enabled: true}}\n")
    detail = gather(project)["team_policy_detail"]
    assert detail["allows"] is False and detail["value"].startswith("unreadable")


def test_status_prints_the_policy_line(project: Path) -> None:
    (project / "flowspec_workflow.yml").write_text(
        "version: '2.0'\nmetadata: {telemetry: {enabled: 'no'}}\n"
    )
    done = subprocess.run(
        [str(CONSOLE_SCRIPT), "status"], cwd=project, capture_output=True, text=True, check=True
    )
    assert (
        "Team policy: metadata.telemetry.enabled is 'no' in flowspec_workflow.yml "
        "(a veto for everyone)"
    ) in done.stdout
    assert sys.executable  # the console script of this venv ran
