"""Real faults for the fault tests: a tiny or read-only tmpfs, an unprivileged user.

We run as root in CI, where `chmod` stops nothing, so "permission denied" is a
process without root's power over file modes (see `unprivileged`), and
"read-only" and "disk full" are real tmpfs mounts. When the machine does not allow a mount (not root, no CAP_SYS_ADMIN),
the disk-full tests fall back to a patched `os.write` (in-process, or through
a `sitecustomize` on PYTHONPATH for a subprocess) and the rest skip with the
reason.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _mount(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["mount", *args], capture_output=True, text=True, check=False, timeout=30)


@contextlib.contextmanager
def tmpfs(size: str = "64k") -> Iterator[Path]:
    """A fresh tmpfs of `size`; skip if mounting is refused."""
    with scratch_dir() as base:
        point = base / "fs"
        point.mkdir()
        if shutil.which("mount") is None:
            pytest.skip("no mount command: cannot make a real small file system")
        done = _mount("-t", "tmpfs", "-o", f"size={size},mode=0755", "tmpfs", str(point))
        if done.returncode != 0:
            pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip() or 'not root'})")
        try:
            yield point
        finally:
            subprocess.run(["umount", "-l", str(point)], check=False, timeout=30)


def _close_descriptors_under(point: Path) -> None:
    """Close this process's descriptors on files under `point`.

    Trackers keep the events file open, and a tracker dropped without
    `close()` leaks its descriptor (`store.Appender` has no finaliser), so a
    read-only remount would fail with EBUSY.
    """
    prefix = str(point) + "/"
    for fd in os.listdir("/proc/self/fd"):
        with contextlib.suppress(OSError):
            if os.readlink(f"/proc/self/fd/{fd}").startswith(prefix):
                os.close(int(fd))


def remount_read_only(point: Path) -> None:
    _close_descriptors_under(point)
    done = _mount("-o", "remount,ro", str(point))
    if done.returncode != 0:
        pytest.skip(f"cannot remount read-only ({done.stderr.strip()})")


def fill(point: Path) -> None:
    """Fill a file system to the last byte (first whole pages, then single bytes)."""
    fd = os.open(point / "filler", os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    try:
        for size in (65536, 4096, 512, 1):
            with contextlib.suppress(OSError):
                while os.write(fd, b"x" * size) == size:
                    pass
    finally:
        os.close(fd)


def free(point: Path) -> None:
    os.unlink(point / "filler")


@contextlib.contextmanager
def scratch_dir() -> Iterator[Path]:
    """A temporary folder outside pytest's, for a mount point that must be unmounted."""
    path = Path(tempfile.mkdtemp(prefix="flowspec-faults-"))
    try:
        yield path
    finally:
        shutil.rmtree(path, ignore_errors=True)


def unprivileged() -> list[str]:
    """A command prefix under which file modes are enforced; skip when impossible.

    Root ignores modes, and the interpreter may live where another user cannot
    reach it (/root), so instead of switching user we drop root's powers over
    file modes (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER): a folder
    made 0500 or a file made 0000 then really refuses, as for any user.
    """
    if os.geteuid() != 0:
        return []  # already unprivileged: chmod alone denies access
    tool = shutil.which("setpriv")
    if tool is None:
        pytest.skip("no setpriv: cannot drop root's power over file modes")
    prefix = [tool, "--bounding-set=-dac_override,-dac_read_search,-fowner"]
    probe = subprocess.run([*prefix, "true"], capture_output=True, check=False, timeout=30)
    if probe.returncode != 0:
        pytest.skip(f"setpriv cannot drop capabilities here ({probe.stderr.decode().strip()})")
    return prefix


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every regular file's bytes under `folder` (links not followed)."""
    out: dict[str, bytes] = {}
    for path in sorted(folder.rglob("*")):
        if path.is_file() and not path.is_symlink():
            out[str(path.relative_to(folder))] = path.read_bytes()
    return out


def assert_nothing_lost(before: dict[str, bytes], after: dict[str, bytes]) -> None:
    """Every file is still there with its bytes; the events file may only have grown."""
    for name, data in before.items():
        assert name in after, f"{name} disappeared"
        if name.endswith("telemetry.jsonl"):
            assert after[name].startswith(data), f"{name} lost stored bytes"
        elif not name.endswith(("telemetry-role.json", "telemetry-hooks.json")):
            assert after[name] == data, f"{name} changed"


ENOSPC_SITECUSTOMIZE = """
import errno, os
_real_write = os.write
def _full(fd, data):
    if bytes(data[:2]) in (b"{", b'{"', b"\\n{"):
        raise OSError(errno.ENOSPC, "No space left on device")
    return _real_write(fd, data)
os.write = _full
"""


def enospc_env(folder: Path) -> dict[str, str]:
    """Environment for a subprocess whose every JSON write fails with ENOSPC."""
    (folder / "sitecustomize.py").write_text(ENOSPC_SITECUSTOMIZE)
    path = os.environ.get("PYTHONPATH")
    return {"PYTHONPATH": str(folder) + (os.pathsep + path if path else "")}
