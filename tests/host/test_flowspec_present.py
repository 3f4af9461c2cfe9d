"""The real host is there: flowspec's own CLI runs in the test environment."""

from __future__ import annotations

import subprocess
from pathlib import Path


def test_flowspec_telemetry_status_runs_in_a_project(flowspec_exe: Path, tmp_path: Path) -> None:
    done = subprocess.run(
        [str(flowspec_exe), "telemetry", "status"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "telemetry" in done.stdout.lower()
