"""Private by default: folder 0700, every file 0600 (archives and exports too), even
under `umask 000`; a loose existing folder or file is tightened by `status` and the
reading commands, and what cannot be tightened is reported."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from flowspec_telemetry.core import permissions, rotation

from . import _faults
from .conftest import CONSOLE_SCRIPT, run_cli

pytestmark = pytest.mark.slow

_HOST = """
import sys
from flowspec_telemetry import track
for i in range(25):
    track("role.selected", role="dev" if i % 2 else "qa", project_root=sys.argv[1])
"""
HOOK = '{"hook_event_name":"PreToolUse","session_id":"s","tool_name":"Task","tool_input":{"subagent_type":"backend-engineer"}}'


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.lstat(path).st_mode)


def _umask0(*argv: str, cwd: Path, stdin: str = "") -> None:
    env = {**os.environ, "FLOWSPEC_TELEMETRY_MAX_EVENTS": "10"}
    done = subprocess.run(
        ["sh", "-c", 'umask 000; exec "$@"', "sh", *argv],
        cwd=cwd, env=env, input=stdin, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr


def test_everything_written_is_private_even_with_umask_000(consented: Path) -> None:
    (consented / ".flowspec").chmod(0o700)
    _umask0(sys.executable, "-c", _HOST, str(consented), cwd=consented)
    _umask0(str(CONSOLE_SCRIPT), "hook", "claude-code", cwd=consented, stdin=HOOK)
    folder = consented / ".flowspec"
    rotation.compact(folder, rotation.Policy(), grace=0)
    _umask0(str(CONSOLE_SCRIPT), "export", "--format", "csv", "--output", "a.csv", cwd=consented)
    _umask0(str(CONSOLE_SCRIPT), "export", "--format", "json", "--output", "a.csv", "--force",
            cwd=consented)  # fmt: skip
    _umask0(str(CONSOLE_SCRIPT), "export", "--format", "jsonl", "--output", "b.jsonl",
            cwd=consented)  # fmt: skip
    names = sorted(p.name for p in folder.iterdir())
    assert any(n.endswith(".jsonl.gz") for n in names), names  # archives were made
    assert "telemetry-hooks.json" in names
    assert _mode(folder) == 0o700
    loose = {
        n: oct(_mode(folder / n)) for n in names if n != ".gitignore" and _mode(folder / n) != 0o600
    }
    assert loose == {}
    assert _mode(consented / "a.csv") == 0o600
    assert _mode(consented / "b.jsonl") == 0o600


def _loosen(root: Path) -> Path:
    folder = root / ".flowspec"
    folder.chmod(0o755)
    for path in folder.iterdir():
        if path.name.startswith("telemetry"):
            path.chmod(0o644)
    return folder


@pytest.mark.parametrize("command", [("status",), ("view",), ("stats",), ("insights",)])
def test_a_loose_store_is_tightened_by_status_and_readers(
    consented: Path, command: tuple[str, ...]
) -> None:
    assert run_cli("track", "role.selected", "--role", "dev", cwd=consented).returncode == 0
    folder = _loosen(consented)
    (folder / "telemetry-20261101-1.jsonl.gz").write_bytes(b"")
    (folder / "telemetry-20261101-1.jsonl.gz").chmod(0o664)
    done = run_cli(*command, cwd=consented)
    assert done.returncode == 0, done.stderr
    assert _mode(folder) == 0o700
    for path in folder.iterdir():
        if path.name.startswith("telemetry"):
            assert _mode(path) == 0o600, path.name
    assert _mode(folder / ".gitignore") == 0o644  # not ours to hide: it is meant for git
    if command == ("status",):
        assert "tightened" in done.stdout
        assert "telemetry.salt from mode 0644 to 0600" in done.stdout


def test_tightening_never_follows_a_symlink(consented: Path, tmp_path: Path) -> None:
    assert run_cli("track", "role.selected", cwd=consented).returncode == 0
    victim = tmp_path / "victim"
    victim.write_text("x")
    victim.chmod(0o644)
    (consented / ".flowspec" / "telemetry-extra.json").symlink_to(victim)
    permissions.tighten(consented)
    assert _mode(victim) == 0o644


def test_what_cannot_be_tightened_is_reported(consented: Path) -> None:
    prefix = _faults.unprivileged()
    assert run_cli("track", "role.selected", cwd=consented).returncode == 0
    folder = consented / ".flowspec"
    stranger = folder / "telemetry-role.json"
    os.chown(stranger, 65534, 65534)
    stranger.chmod(0o644)
    done = subprocess.run(
        [*prefix, str(CONSOLE_SCRIPT), "status"],
        cwd=consented, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert "Traceback" not in done.stderr
    assert "telemetry-role.json is readable by others (mode 0644)" in done.stdout
    assert "could not be made private" in done.stdout
