"""Shared fixtures: every test runs in an isolated home, config folder and project.

No test may read or write the real user's configuration, and no test may see
consent-related environment variables of the shell that started pytest.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

import flowspec_telemetry
from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.tracker import Tracker

SHARED = Path(__file__).parent / "data"
CONSOLE_SCRIPT = Path(sys.executable).with_name("flowspec-telemetry")
_ENV_PREFIXES = ("FLOWSPEC_", "DO_NOT_TRACK", "CI", "XDG_CONFIG_HOME", "NO_COLOR", "FORCE_COLOR")


@pytest.fixture(autouse=True)
def isolated_env(
    tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Path]:
    """A fresh HOME and XDG_CONFIG_HOME, no consent env vars, and fresh tracker caches."""
    home = tmp_path_factory.mktemp("home")
    for name in list(os.environ):
        if name.startswith(_ENV_PREFIXES):
            monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.setenv("XDG_CONFIG_HOME", str(home / ".config"))
    monkeypatch.setenv("COLUMNS", "100")
    flowspec_telemetry.default_tracker().invalidate()
    yield home
    flowspec_telemetry.default_tracker().invalidate()


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """An empty project: a workflow file (the sample catalog), no consent given."""
    root = tmp_path / "project"
    root.mkdir()
    (root / "flowspec_workflow.yml").write_text((SHARED / "flowspec_workflow.yml").read_text())
    return root


@pytest.fixture
def consented(project: Path) -> Path:
    """A project whose person has said yes (project-local record)."""
    consent_rules.write_record(
        consent_rules.project_config_path(project), consent_rules.new_record("yes")
    )
    return project


@pytest.fixture
def tracker() -> Tracker:
    """A fresh tracker with no caches from other tests."""
    return Tracker()


def read_events(root: Path) -> list[dict[str, object]]:
    """Every line of the project's live telemetry file, parsed strictly."""
    path = root / ".flowspec" / "telemetry.jsonl"
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line]


# Commands whose promise is about the process itself: always a real console script.
_OWN_PROCESS = frozenset({"track", "hook"})


def run_cli(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | bytes | None = None,
    timeout: float = 60,
    process: bool = False,
) -> subprocess.CompletedProcess[str]:
    """Run a command as a user would: `track`/`hook` (or `process=True`) as the real
    console script, the typer commands in-process through typer's CliRunner
    (`tests/_inprocess.py`; FLOWSPEC_TEST_SUBPROCESS=1 runs them all as processes).
    """
    # PYTHON* variables (PYTHONPATH hiding a module, say) need an interpreter of their own.
    interpreter = env is not None and any(k.startswith("PYTHON") for k in env)
    if interpreter or process or not args or args[0] in _OWN_PROCESS or _ALL_AS_PROCESSES:
        return run_console_script(*args, cwd=cwd, env=env, input=input, timeout=timeout)
    from tests._inprocess import run_in_process

    return run_in_process(list(args), cwd=cwd, env=env, input=input)


_ALL_AS_PROCESSES = os.environ.get("FLOWSPEC_TEST_SUBPROCESS") == "1"


def run_console_script(
    *args: str,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
    input: str | bytes | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run the installed console script in its own process, as a user would."""
    full_env = dict(os.environ)
    if env:
        full_env.update(env)
    data = input.decode("utf-8", "surrogateescape") if isinstance(input, bytes) else input
    return subprocess.run(
        [str(CONSOLE_SCRIPT), *args],
        cwd=cwd,
        env=full_env,
        input=data if data is not None else "",
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )


def all_files_text(root: Path) -> bytes:
    """Every byte of every file under `root` (gz archives decompressed), for PII greps."""
    import gzip

    blob = b""
    for path in sorted(root.rglob("*")):
        if path.is_file() and not path.is_symlink():
            data = path.read_bytes()
            if path.suffix == ".gz":
                data = gzip.decompress(data)
            blob += data + b"\n"
    return blob
