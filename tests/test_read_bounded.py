"""`read_bounded`: regular files only, never blocks, never reads past its bound."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from flowspec_telemetry.core._read import UnsafeFileError, read_bounded


def test_a_regular_file_is_read_whole(tmp_path: Path) -> None:
    path = tmp_path / "f"
    path.write_bytes(b"x" * 1000)
    assert read_bounded(path, 1000) == b"x" * 1000


def test_absent_is_file_not_found(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        read_bounded(tmp_path / "missing", 10)


def test_larger_than_the_bound_is_refused_without_reading(tmp_path: Path) -> None:
    path = tmp_path / "big"
    with path.open("wb") as fh:
        fh.truncate(50 << 20)  # 50 MB, sparse: refused from fstat, nothing read
    started = time.monotonic()
    with pytest.raises(UnsafeFileError) as caught:
        read_bounded(path, 1 << 20)
    assert time.monotonic() - started < 0.5
    assert caught.value.reason == "larger than 1 MiB"


def _special(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / kind
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "dev-zero":
        path.symlink_to("/dev/zero")
    elif kind == "dev-stdin":
        path.symlink_to("/dev/stdin")
    elif kind == "dangling":
        path.symlink_to(tmp_path / "nowhere")
    elif kind == "symlink":
        (tmp_path / "target").write_text("{}")
        path.symlink_to(tmp_path / "target")
    return path


@pytest.mark.parametrize(
    ("kind", "reason"),
    [
        ("fifo", "a FIFO"),
        ("folder", "a folder"),
        ("dev-zero", "a symbolic link"),
        ("dev-stdin", "a symbolic link"),
        ("dangling", "a symbolic link"),
        ("symlink", "a symbolic link"),
    ],
)
def test_special_files_are_refused_at_once(tmp_path: Path, kind: str, reason: str) -> None:
    path = _special(tmp_path, kind)
    started = time.monotonic()
    with pytest.raises(UnsafeFileError) as caught:
        read_bounded(path, 1 << 20)
    assert time.monotonic() - started < 0.5  # a FIFO without a writer never blocks
    assert caught.value.reason == reason
    assert str(path) in str(caught.value)


@pytest.mark.parametrize(("kind", "reason"), [("dev-zero", "a device"), ("fifo", "a FIFO")])
def test_followed_symlinks_still_refuse_special_targets(
    tmp_path: Path, kind: str, reason: str
) -> None:
    target = _special(tmp_path, kind)
    link = tmp_path / "link"
    link.symlink_to(target)
    with pytest.raises(UnsafeFileError) as caught:
        read_bounded(link, 1 << 20, follow_symlinks=True)
    assert caught.value.reason == reason


def test_a_followed_symlink_to_a_regular_file_is_read(tmp_path: Path) -> None:
    link = _special(tmp_path, "symlink")
    assert read_bounded(link, 10, follow_symlinks=True) == b"{}"


def test_unsafe_file_error_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="not reading it"):  # callers catching OSError still do
        read_bounded(_special(tmp_path, "fifo"), 10)
