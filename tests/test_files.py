"""The one private-file writer (`core._files`): whole or nothing, 0600, never through a link."""

from __future__ import annotations

import errno
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from flowspec_telemetry.core import _files
from flowspec_telemetry.core._files import append_private, write_private

SRC = Path(_files.__file__).parents[1]


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_writes_the_bytes_with_mode_0600_even_under_umask_000(tmp_path: Path) -> None:
    target = tmp_path / "record.json"
    old = os.umask(0)
    try:
        write_private(target, b'{"enabled": true}\n')
    finally:
        os.umask(old)
    assert target.read_bytes() == b'{"enabled": true}\n'
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    assert _leftovers(tmp_path) == []


def test_chunks_are_written_whole_and_in_order(tmp_path: Path) -> None:
    target = tmp_path / "export.csv"
    chunks = [f"row {i}\n".encode() for i in range(200_000)]  # more than one MiB buffer
    write_private(target, iter(chunks))
    assert target.read_bytes() == b"".join(chunks)


def test_short_writes_are_retried_until_every_byte_is_written(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_write = os.write
    calls = []

    def one_byte(fd: int, data: bytes) -> int:
        calls.append(len(data))
        return real_write(fd, bytes(data[:1]))

    monkeypatch.setattr(os, "write", one_byte)
    write_private(tmp_path / "salt", b"0123456789")
    monkeypatch.undo()
    assert (tmp_path / "salt").read_bytes() == b"0123456789"
    assert len(calls) == 10


def test_a_write_without_progress_is_enospc_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (tmp_path / "record.json").write_bytes(b"old")
    monkeypatch.setattr(os, "write", lambda fd, data: 0)
    with pytest.raises(OSError, match="No space left") as info:
        write_private(tmp_path / "record.json", b"new content")
    monkeypatch.undo()
    assert info.value.errno == errno.ENOSPC
    assert (tmp_path / "record.json").read_bytes() == b"old"
    assert _leftovers(tmp_path) == []


def test_the_file_is_synced_before_it_is_renamed_into_place(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "catalog.json"
    seen: list[bool] = []
    real_fsync = os.fsync
    monkeypatch.setattr(os, "fsync", lambda fd: seen.append(target.exists()) or real_fsync(fd))
    write_private(target, b"{}")
    assert seen == [False]  # synced once, while the target did not exist yet


def test_an_interrupt_while_writing_removes_the_temporary_file(tmp_path: Path) -> None:
    def chunks() -> Iterator[bytes]:
        yield b"x" * (2 << 20)
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        write_private(tmp_path / "report.html", chunks())
    assert list(tmp_path.iterdir()) == []


def test_a_symlink_at_the_target_is_replaced_never_written_through(tmp_path: Path) -> None:
    victim = tmp_path / "victim"
    victim.write_bytes(b"keep me")
    (tmp_path / "settings.json").symlink_to(victim)
    write_private(tmp_path / "settings.json", b"new")
    assert victim.read_bytes() == b"keep me"
    assert not (tmp_path / "settings.json").is_symlink()
    assert (tmp_path / "settings.json").read_bytes() == b"new"


def test_replace_false_never_replaces_and_cleans_up(tmp_path: Path) -> None:
    (tmp_path / "salt").write_bytes(b"winner")
    with pytest.raises(FileExistsError):
        write_private(tmp_path / "salt", b"loser", replace=False)
    assert (tmp_path / "salt").read_bytes() == b"winner"
    assert _leftovers(tmp_path) == []
    write_private(tmp_path / "fresh", b"first", replace=False)
    assert (tmp_path / "fresh").read_bytes() == b"first"
    assert _leftovers(tmp_path) == []


def test_a_caller_may_keep_another_files_mode(tmp_path: Path) -> None:
    old = os.umask(0o022)
    try:
        write_private(tmp_path / "settings.json", b"{}", mode=0o644)
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "settings.json").stat().st_mode) == 0o644


def test_a_missing_folder_raises_and_creates_nothing(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        write_private(tmp_path / "missing" / "file", b"x")
    assert list(tmp_path.iterdir()) == []


def test_append_private_appends_whole_lines_0600_and_refuses_a_symlink(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    ledger = tmp_path / "ledger.jsonl"
    real_write = os.write
    monkeypatch.setattr(os, "write", lambda fd, data: real_write(fd, bytes(data[:3])))
    append_private(ledger, b'{"a":1}\n')
    append_private(ledger, b'{"b":2}\n')
    monkeypatch.undo()
    assert ledger.read_bytes() == b'{"a":1}\n{"b":2}\n'
    assert stat.S_IMODE(ledger.stat().st_mode) == 0o600
    (tmp_path / "link.jsonl").symlink_to(ledger)
    with pytest.raises(OSError, match="symbolic links") as info:
        append_private(tmp_path / "link.jsonl", b"x\n")
    assert info.value.errno == errno.ELOOP
    assert ledger.read_bytes() == b'{"a":1}\n{"b":2}\n'


def test_no_other_module_writes_a_file_by_hand() -> None:
    """Temp-file-and-rename writes exist once: everything else calls `write_private`."""
    pattern = re.compile(r"O_EXCL|os\.replace\(|mkstemp|NamedTemporaryFile|\.write_(text|bytes)\(")
    offenders = []
    for path in sorted(SRC.rglob("*.py")):
        if path.name == "_files.py":
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if pattern.search(line):
                offenders.append(f"{path.relative_to(SRC)}:{number}: {line.strip()}")
    assert offenders == []
