"""`migrate`: legacy lines rewritten in place as schema 1.0, atomically, backed up, idempotent."""

from __future__ import annotations

import gzip
import json
import os
import shutil
import stat
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from flowspec_telemetry.analysis.insights import compute_insights
from flowspec_telemetry.cli.app import app, run
from flowspec_telemetry.core import privacy
from flowspec_telemetry.core._legacy import is_legacy, map_legacy
from flowspec_telemetry.core.store import iter_events
from flowspec_telemetry.core.tracker import Tracker
from flowspec_telemetry.history.migrate import MigrateError, backups, migrate

from .conftest import SHARED
from .test_legacy import NEVER_SHOWN, install_legacy

LEGACY = SHARED / "flowspec-legacy" / "lines.jsonl"


def _lines(path: Path) -> list[dict[str, Any]]:
    return [json.loads(x) for x in path.read_text().splitlines() if x.strip()]


def test_every_legacy_line_becomes_what_the_tracker_would_write(consented: Path) -> None:
    live = install_legacy(consented)
    original = _lines(live)
    before = compute_insights(iter_events(consented)).to_json()
    done = migrate(consented)
    assert done.migrated == 44 and done.files == ("telemetry.jsonl",)
    text = live.read_text()
    for needle in NEVER_SHOWN:
        assert needle not in text, needle
    migrated = _lines(live)
    assert len(migrated) == len(original)
    # order and times kept (to the millisecond)
    assert [e["timestamp"] for e in migrated] == [map_legacy(e)["timestamp"] for e in original]
    assert [e["legacy_type"] for e in migrated] == [e["event_type"] for e in original]
    assert all(e["schema_version"] == "1.0" and not is_legacy(e) for e in migrated)
    assert len({e["event_id"] for e in migrated}) == 44
    assert all(e["event_id"].startswith("evt_") and len(e["event_id"]) == 30 for e in migrated)
    tracker = Tracker()
    assert {e["project_id"] for e in migrated} == {
        tracker.keyed_hash("project:" + os.path.realpath(consented), consented)
    }
    # catalog values as they are; anything else: the keyed hash the tracker stores for it
    from flowspec_telemetry.core.roles import load_catalog

    catalog = load_catalog(consented)
    for old, new in zip(original, migrated, strict=True):
        role = old.get("role")
        if isinstance(role, str):
            expected = (
                role if role in catalog.known_roles else tracker.stored("role", role, consented)
            )
            assert new["role"] == expected, role
            assert role in catalog.known_roles or privacy.is_hash(new["role"])
        agent = new.get("agent")
        if isinstance(agent, str):
            assert agent in catalog.known_agents or privacy.is_hash(agent)
    assert "@backend-engineer" in {e["agent"] for e in migrated}
    after = compute_insights(iter_events(consented)).to_json()
    for section in ("completion", "based_on"):
        assert after[section] == before[section], section
    assert after["commands"]["top"] == before["commands"]["top"]
    assert after["handoffs"]["clicked"] == before["handoffs"]["clicked"]
    assert after["roles"]["changes"] == before["roles"]["changes"]


def test_backup_is_private_kept_until_commit_and_runs_are_idempotent(consented: Path) -> None:
    live = install_legacy(consented)
    original = live.read_bytes()
    first = migrate(consented)
    (backup,) = backups(consented)
    assert first.backups == (backup.name,)
    assert backup.read_bytes() == original
    assert stat.S_IMODE(backup.stat().st_mode) == 0o600
    assert stat.S_IMODE(live.stat().st_mode) == 0o600
    migrated = live.read_bytes()
    again = migrate(consented)
    assert again.migrated == 0 and again.files == ()
    assert live.read_bytes() == migrated and backups(consented) == [backup]
    committed = migrate(consented, commit=True)
    assert committed.removed_backups == (backup.name,) and backups(consented) == []
    assert live.read_bytes() == migrated


def test_a_later_run_never_replaces_an_earlier_backup(consented: Path) -> None:
    live = install_legacy(consented)
    original = live.read_bytes()
    migrate(consented)
    with live.open("ab") as fh:  # flowspec's own writer appended again meanwhile
        fh.write(LEGACY.read_bytes().splitlines(keepends=True)[0])
    assert migrate(consented).migrated == 1
    names = [p.name for p in backups(consented)]
    assert names == ["telemetry.jsonl.migrate-backup", "telemetry.jsonl.migrate-backup.2"]
    assert (live.parent / names[0]).read_bytes() == original


def test_dry_run_writes_nothing(consented: Path) -> None:
    live = install_legacy(consented)
    before = sorted(p.name for p in live.parent.iterdir())
    done = migrate(consented, dry_run=True)
    assert done.migrated == 44 and done.dry_run
    assert sorted(p.name for p in live.parent.iterdir()) == before
    assert live.read_bytes() == LEGACY.read_bytes()


def test_other_lines_are_kept_byte_for_byte(consented: Path) -> None:
    tracker = Tracker()
    tracker.track("role.selected", role="dev", project_root=consented)
    live = consented / ".flowspec" / "telemetry.jsonl"
    ours = live.read_bytes()
    junk = b'{"torn": \n\xff\xfe binary\n[1, 2]\n{"schema_version":"9.0","event_type":"x.y"}\n\n'
    overlong = b'{"event_type":"role.selected","pad":"' + b"x" * (2 << 20) + b'"}\n'
    legacy = LEGACY.read_bytes().splitlines(keepends=True)[:3]
    live.write_bytes(
        ours
        + legacy[0]
        + junk
        + overlong
        + legacy[1]
        + legacy[2]
        + b'{"event_type":"role.selected"'
    )
    done = migrate(consented)
    assert done.migrated == 3
    data = live.read_bytes()
    assert data.startswith(ours)
    assert junk in data and overlong in data
    assert data.endswith(b'{"event_type":"role.selected"')  # a torn last line stays torn
    assert b"hostname_hash" not in data


def test_archives_are_rewritten_and_their_summaries_dropped(consented: Path) -> None:
    folder = consented / ".flowspec"
    folder.mkdir(exist_ok=True)
    archive = folder / "telemetry-20251001-1.jsonl.gz"
    archive.write_bytes(gzip.compress(LEGACY.read_bytes()))
    summary = folder / "telemetry-20251001-1.summary.json"
    summary.write_text("{}")
    done = migrate(consented)
    assert done.files == ("telemetry-20251001-1.jsonl.gz",) and done.migrated == 44
    assert not summary.exists()
    text = gzip.decompress(archive.read_bytes())
    assert b"hostname_hash" not in text and text.count(b'"schema_version":"1.0"') == 44
    assert (
        gzip.decompress((folder / "telemetry-20251001-1.jsonl.gz.migrate-backup").read_bytes())
        == LEGACY.read_bytes()
    )
    assert len(list(iter_events(consented))) == 44


def test_a_symlink_or_a_fifo_is_refused_and_nothing_changes(
    consented: Path, tmp_path: Path
) -> None:
    folder = consented / ".flowspec"
    folder.mkdir(exist_ok=True)
    target = tmp_path / "elsewhere.jsonl"
    shutil.copyfile(LEGACY, target)
    (folder / "telemetry.jsonl").symlink_to(target)
    with pytest.raises(MigrateError, match="symbolic link"):
        migrate(consented)
    assert target.read_bytes() == LEGACY.read_bytes()
    (folder / "telemetry.jsonl").unlink()
    os.mkfifo(folder / "telemetry.jsonl")
    with pytest.raises(MigrateError, match="not a regular file"):
        migrate(consented)
    assert backups(consented) == []


WRITER = """
import sys
from flowspec_telemetry.core.tracker import Tracker
t = Tracker()
for i in range(int(sys.argv[2])):
    assert t.track("command.started", command="/flow:plan", project_root=sys.argv[1])
"""


def test_events_appended_while_migrating_are_not_lost(consented: Path) -> None:
    live = install_legacy(consented)
    with live.open("ab") as fh:  # a long legacy history: the rewrite takes a while
        fh.write(LEGACY.read_bytes() * 200)
    writer = subprocess.Popen([sys.executable, "-c", WRITER, str(consented), "400"])
    results: list[int] = []
    thread = threading.Thread(target=lambda: results.append(migrate(consented).migrated))
    thread.start()
    thread.join()
    assert writer.wait(timeout=60) == 0
    migrate(consented)  # what the writer appended before its first reopen, if anything
    events = list(iter_events(consented))
    assert sum(1 for e in events if "legacy_type" in e) == 44 * 201
    assert sum(1 for e in events if "legacy_type" not in e) == 400
    assert results[0] > 0


LEGACY_LINES = st.lists(
    st.dictionaries(
        st.sampled_from(["event_type", "timestamp", "role", "command", "agent", "context", "metadata", "x"]),
        st.none() | st.integers() | st.text(max_size=12) | st.lists(st.text(max_size=3), max_size=2)
        | st.dictionaries(st.sampled_from(["previous_role", "from_agent", "to_agent", "y"]), st.text(max_size=8) | st.integers(), max_size=3),
        max_size=7,
    ),
    min_size=1,
    max_size=8,
)  # fmt: skip


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(LEGACY_LINES)
def test_a_legacy_line_of_any_shape_never_crashes_migrate(
    consented: Path, lines: list[dict[str, Any]]
) -> None:
    folder = consented / ".flowspec"
    folder.mkdir(exist_ok=True)
    live = folder / "telemetry.jsonl"
    live.write_text("".join(json.dumps(x) + "\n" for x in lines))
    for backup in backups(consented):
        backup.unlink()
    done = migrate(consented)
    expected = sum(1 for x in lines if isinstance(x.get("event_type"), str))
    assert done.migrated == expected
    assert migrate(consented).migrated == 0
    for raw in live.read_text().splitlines():
        obj = json.loads(raw)
        assert not (isinstance(obj.get("event_type"), str) and is_legacy(obj))
        assert "metadata" not in obj or not isinstance(obj.get("event_type"), str)


def test_the_command_line(consented: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    install_legacy(consented)
    runner = CliRunner()
    monkeypatch.chdir(consented)
    dry = runner.invoke(app, ["migrate", "--dry-run"])
    assert dry.exit_code == 0 and "Would migrate 44 lines" in dry.stdout
    done = runner.invoke(app, ["migrate"])
    assert done.exit_code == 0
    assert "Migrated 44 lines" in done.stdout and "telemetry.jsonl.migrate-backup" in done.stdout
    again = runner.invoke(app, ["migrate"])
    assert again.exit_code == 0 and "Nothing to migrate" in again.stdout
    commit = runner.invoke(app, ["migrate", "--commit"])
    assert commit.exit_code == 0 and "Removed 1 backup." in commit.stdout
    assert run(["migrate", "--commit", "--dry-run"]) == 2  # usage: one line, exit 2
    outside = tmp_path / "nowhere"
    outside.mkdir()
    monkeypatch.chdir(outside)
    assert run(["migrate"]) == 1


def test_audit_finds_the_legacy_host_name_hash_until_migrate(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    install_legacy(consented)
    monkeypatch.chdir(consented)
    assert run(["audit"]) == 1
    migrate(consented, commit=True)
    assert run(["audit"]) == 0


def test_it_works_without_consent_and_clear_removes_the_backups(project: Path) -> None:
    install_legacy(project)  # history from flowspec's module, no answer given to this package
    assert migrate(project).migrated == 44
    assert backups(project)
    from flowspec_telemetry.history.erase import clear

    clear(project)
    assert backups(project) == []
    assert not (project / ".flowspec" / "telemetry.jsonl").exists()
