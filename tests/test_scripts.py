"""scripts/test's package installer: apt's output goes to a log, one line to the screen."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

DEPS = Path(__file__).parents[1] / "scripts" / "test-deps.sh"


def _fake_bin(tmp_path: Path, apt_exit: int) -> Path:
    """`apt-get` that prints what apt prints (200 lines), and `id` that says root."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    apt = bin_dir / "apt-get"
    apt.write_text(
        "#!/bin/sh\n"
        'i=0; while [ $i -lt 100 ]; do echo "Get:$i http://deb.example/ $*"; i=$((i+1)); done\n'
        f"exit {apt_exit}\n"
    )
    fake_id = bin_dir / "id"
    fake_id.write_text("#!/bin/sh\necho 0\n")
    for tool in (apt, fake_id):
        tool.chmod(0o755)
    return bin_dir


def _install(tmp_path: Path, apt_exit: int) -> subprocess.CompletedProcess[str]:
    bin_dir = _fake_bin(tmp_path, apt_exit)
    env = {
        **os.environ,
        "PATH": f"{bin_dir}:{os.environ['PATH']}",
        "APT_LOG": str(tmp_path / "apt.log"),
    }
    return subprocess.run(
        ["bash", "-c", f'. "{DEPS}" && quiet_apt_install chromium "browser tests"'],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


def test_apt_output_goes_to_the_log_and_one_line_says_so(tmp_path: Path) -> None:
    result = _install(tmp_path, apt_exit=0)
    assert result.returncode == 0
    log = tmp_path / "apt.log"
    assert result.stdout == (
        f"scripts/test: installing chromium for the browser tests (apt output: {log})\n"
    )
    assert result.stderr == ""
    assert log.read_text().count("Get:") == 200  # update and install, 100 lines each


def test_a_failed_install_is_one_line_on_stderr(tmp_path: Path) -> None:
    result = _install(tmp_path, apt_exit=100)
    assert result.returncode == 0  # the tests that need it skip and say why
    assert len(result.stdout.splitlines()) == 1
    assert result.stderr == (
        f"scripts/test: could not install chromium (see {tmp_path / 'apt.log'}); "
        "browser tests will be skipped\n"
    )
