"""Package habits: `python -m flowspec_telemetry`, the LICENSE, `__all__` in public modules."""

from __future__ import annotations

import importlib
import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

import flowspec_telemetry
from tests.conftest import read_events

ROOT = Path(__file__).parents[1]


def _module(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "flowspec_telemetry", *args],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_python_dash_m_runs_the_cli(tmp_path: Path) -> None:
    done = _module("--version", cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == f"flowspec-telemetry {flowspec_telemetry.__version__}"
    bad = _module("view", "--limit", "-1", cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.count("\n") == 1


def test_python_dash_m_track_records_through_the_fast_path(consented: Path) -> None:
    done = _module("track", "role.selected", "--role", "dev", "--source", "init", cwd=consented)
    assert done.returncode == 0, done.stderr
    events = read_events(consented)
    assert [e["event_id"] for e in events] == [done.stdout.strip()]
    assert events[0]["role"] == "dev"


def test_the_license_file_is_the_mit_license_pyproject_names() -> None:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    assert meta["project"]["license"] == "MIT"
    text = (ROOT / "LICENSE").read_text(encoding="utf-8")
    assert text.startswith("MIT License")
    assert "Permission is hereby granted, free of charge" in text


def _public_modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(flowspec_telemetry.__path__, "flowspec_telemetry."):
        if any(part.startswith("_") for part in info.name.split(".")[1:]):
            continue  # private modules (and __main__) need no __all__
        names.append(info.name)
    return names


@pytest.mark.parametrize("name", _public_modules())
def test_every_public_module_declares_its_api(name: str) -> None:
    module = importlib.import_module(name)
    exported = getattr(module, "__all__", None)
    assert isinstance(exported, list), f"{name} has no __all__"
    missing = [n for n in exported if not hasattr(module, n)]
    assert missing == [], f"{name}.__all__ names what it does not define: {missing}"
