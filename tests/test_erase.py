"""`erase`: what `clear` removes, what it keeps, and that it never deletes through a link."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.names import ToolNames
from flowspec_telemetry.core.project import find_root
from flowspec_telemetry.core.store import GITIGNORE, GITIGNORE_BODY, StoreError
from flowspec_telemetry.core.tracker import Tracker, default_tracker
from flowspec_telemetry.history import erase
from flowspec_telemetry.history.erase import Cleared, clear, count_events, telemetry_files

LINE = b'{"schema_version":"1.0","event_type":"role.selected","role":"dev"}\n'


def fill(root: Path) -> Path:
    """A folder with every kind of telemetry file, our .gitignore and one host file."""
    folder = root / ".flowspec"
    folder.mkdir(exist_ok=True)
    (folder / GITIGNORE).write_text(GITIGNORE_BODY)
    (folder / "telemetry.jsonl").write_bytes(LINE * 3 + b"{torn\n")
    (folder / "telemetry-20261101-1.jsonl.gz").write_bytes(gzip.compress(LINE * 2))
    (folder / "telemetry-pending-20261102-1.jsonl").write_bytes(LINE)
    (folder / "telemetry.salt").write_bytes(b"s" * 32)
    (folder / "telemetry-catalog.json").write_text("{}")
    (folder / "telemetry.lock").write_bytes(b"")
    (folder / ".telemetry-x.tmp").write_bytes(b"")
    (folder / "host-settings.json").write_text("{}")  # the host's own: never ours
    return folder


def test_clear_removes_every_telemetry_file_and_keeps_the_rest(consented: Path) -> None:
    folder = fill(consented)
    record = consent_rules.project_config_path(consented)
    out = clear(consented)
    assert (out.events, out.skipped) == (6, 1)
    assert sorted(p.name for p in out.files) == [
        ".telemetry-x.tmp",
        "telemetry-20261101-1.jsonl.gz",
        "telemetry-catalog.json",
        "telemetry-pending-20261102-1.jsonl",
        "telemetry.jsonl",
        "telemetry.lock",
        "telemetry.salt",
    ]
    assert out.consent_files == []
    assert sorted(p.name for p in folder.iterdir()) == [
        GITIGNORE,
        "host-settings.json",
        "telemetry-config.json",
    ]
    assert record.exists()
    assert consent_rules.decide(consented).enabled  # the answer stays


def test_reset_consent_forgets_the_project_answer_and_keeps_the_global_one(
    consented: Path,
) -> None:
    folder = fill(consented)
    (folder / "host-settings.json").unlink()
    global_path = consent_rules.global_config_path()
    consent_rules.write_record(global_path, consent_rules.new_record("no"))
    out = clear(consented, reset_consent=True)
    assert out.consent_files == [consent_rules.project_config_path(consented)]
    record = consent_rules.read_record(global_path)
    assert record is not None and record.answer == "no"  # issue 14.15: the global answer stays
    assert not folder.exists()  # only our .gitignore was left, and telemetry is off: both went
    assert consent_rules.decide(consented).rule is consent_rules.Rule.GLOBAL_ANSWER


def test_a_folder_that_is_the_only_project_marker_stays_while_consent_is_on(
    tmp_path: Path,
) -> None:
    # Issue 14.9: a project marked only by `.flowspec/` (no workflow file).
    root = tmp_path / "bare"
    root.mkdir()
    consent_rules.write_record(consent_rules.global_config_path(), consent_rules.new_record("yes"))
    tracker = Tracker()
    (root / ".flowspec").mkdir()
    assert tracker.track("role.selected", role="dev", project_root=root) is not None
    for reset in (False, True):
        out = clear(root, reset_consent=reset)
        assert (root / ".flowspec").is_dir(), reset
        assert find_root(str(root)) == str(root)
        assert tracker.track("role.selected", role="dev", project_root=root) is not None
        assert out.events == 1
    consent_rules.write_record(consent_rules.global_config_path(), consent_rules.new_record("no"))
    clear(root)
    assert not (root / ".flowspec").exists()  # consent off: nothing is left behind


def test_reset_consent_without_records_lists_nothing(project: Path) -> None:
    out = clear(project, reset_consent=True)
    assert out == Cleared()
    assert not (project / ".flowspec").exists()


def test_a_changed_gitignore_or_other_file_keeps_the_folder(consented: Path) -> None:
    folder = fill(consented)
    (folder / "host-settings.json").unlink()
    (folder / GITIGNORE).write_text(GITIGNORE_BODY + "secrets/\n")
    clear(consented, reset_consent=True)
    assert [p.name for p in folder.iterdir()] == [GITIGNORE]
    assert (folder / GITIGNORE).read_text().endswith("secrets/\n")


def test_a_symlinked_folder_is_refused(tmp_path: Path, project: Path) -> None:
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (elsewhere / "telemetry.jsonl").write_bytes(LINE)
    (project / ".flowspec").symlink_to(elsewhere)
    with pytest.raises(StoreError, match="symbolic link"):
        clear(project)
    assert (elsewhere / "telemetry.jsonl").read_bytes() == LINE


def test_symlinks_inside_are_removed_as_links_and_targets_survive(
    tmp_path: Path, consented: Path
) -> None:
    folder = consented / ".flowspec"
    target = tmp_path / "precious.jsonl"
    target.write_bytes(LINE * 5)
    target_dir = tmp_path / "precious-dir"
    target_dir.mkdir()
    (target_dir / "keep").write_text("k")
    (folder / "telemetry.jsonl").symlink_to(target)
    (folder / "telemetry-dir-link").symlink_to(target_dir)
    (folder / "telemetry-real-dir").mkdir()  # a folder is not ours to remove
    out = clear(consented)
    assert out.events == 0  # the linked file was never read
    assert {p.name for p in out.files} == {"telemetry.jsonl", "telemetry-dir-link"}
    assert target.read_bytes() == LINE * 5
    assert (target_dir / "keep").read_text() == "k"
    assert not (folder / "telemetry.jsonl").is_symlink()
    assert (folder / "telemetry-real-dir").is_dir()


def test_telemetry_files_lists_only_ours(consented: Path) -> None:
    folder = fill(consented)
    names = [p.name for p in telemetry_files(consented)]
    assert names == sorted(names)
    assert "telemetry-config.json" not in names
    assert "host-settings.json" not in names
    assert GITIGNORE not in names
    assert len(names) == 7
    assert all(p.parent == folder for p in telemetry_files(consented))
    assert telemetry_files(consented.parent / "missing") == []


def test_count_events_across_archives(consented: Path) -> None:
    fill(consented)
    assert count_events(consented) == (6, 1)
    assert count_events(consented, ToolNames("acme")) == (0, 0)


def test_clear_without_a_folder_and_twice(project: Path) -> None:
    assert clear(project) == Cleared()
    assert not (project / ".flowspec").exists()


def test_clear_then_tracking_starts_a_new_salt(consented: Path) -> None:
    tracker = default_tracker()  # the one `clear` makes forget its cached project state
    assert tracker.track("role.selected", role="custom-role", project_root=consented)
    salt = (consented / ".flowspec" / "telemetry.salt").read_bytes()
    out = clear(consented)
    assert out.events == 1
    assert tracker.track("role.selected", role="custom-role", project_root=consented)
    assert (consented / ".flowspec" / "telemetry.salt").read_bytes() != salt
    assert count_events(consented) == (1, 0)


def test_clear_invalidates_the_default_tracker(
    consented: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[int] = []
    monkeypatch.setattr(default_tracker(), "invalidate", lambda: calls.append(1))
    erase.clear(consented)
    assert calls == [1]
