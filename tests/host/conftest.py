"""Host-fit tests: this package beside the real flowspec 0.4.x in one environment.

`scripts/test` installs flowspec from the source snapshot in `../shared/flowspec`.
Where it is missing these tests skip with the reason locally, and fail in CI
(`CI` set), so a CI run can never pass without having met the real host.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest

# Read at import: the autouse isolation fixture removes CI from each test's environment.
_IN_CI = bool(os.environ.get("CI"))


def _flowspec_missing() -> str | None:
    try:
        import flowspec_cli  # noqa: F401
    except ImportError:
        return "flowspec is not installed (scripts/test installs it from ../shared/flowspec)"
    return None


@pytest.fixture(scope="session")
def flowspec_exe() -> Path:
    """The real `flowspec` console script of the test environment."""
    reason = _flowspec_missing()
    exe = Path(sys.executable).with_name("flowspec")
    if reason is None and not exe.exists():
        found = shutil.which("flowspec")
        reason = None if found else "the flowspec console script is not on this venv's bin"
        exe = Path(found) if found else exe
    if reason is not None:
        if _IN_CI:
            pytest.fail(reason)
        pytest.skip(reason)
    return exe
