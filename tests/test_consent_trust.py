"""The trust rule for consent answers (issue 13.1) and the DO_NOT_TRACK convention (13.14).

A yes counts only when the person gave it: their own regular file, in their
own folder, for the current notice, and (in a project) not tracked by git. A
no counts from anywhere, and a yes never outvotes a no given elsewhere.
These tests use real git repositories and real file owners (the suite runs
as root in CI, so `os.chown` can hand a file to another uid).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from flowspec_telemetry.consent.answers import disable_telemetry, enable_telemetry
from flowspec_telemetry.core import _git_index, consent_rules
from flowspec_telemetry.core.consent_rules import (
    ConsentFileError,
    Rule,
    decide,
    global_config_path,
    new_record,
    project_config_path,
    read_record,
    write_record,
)
from flowspec_telemetry.core.tracker import Tracker
from tests.conftest import read_events

OTHER_UID = 54321
GIT = shutil.which("git")
needs_git = pytest.mark.skipif(GIT is None, reason="git is not installed")
needs_root = pytest.mark.skipif(
    not hasattr(os, "geteuid") or os.geteuid() != 0,
    reason="handing a file to another uid needs root (CI runs as root)",
)


def _git(cwd: Path, *args: str) -> str:
    env = {
        **os.environ,
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@example.invalid",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@example.invalid",
        "GIT_CONFIG_NOSYSTEM": "1",
    }
    done = subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=True, timeout=60
    )
    return done.stdout


def _say(path: Path, answer: str) -> None:
    write_record(path, new_record(answer))


# ------------------------------------------------------------------ git


@needs_git
def test_a_committed_yes_is_not_the_cloners_answer(project: Path, tmp_path: Path) -> None:
    _git(project, "init", "-q")
    path = project_config_path(project)
    _say(path, "yes")
    _git(project, "add", "-f", ".flowspec/telemetry-config.json", "flowspec_workflow.yml")
    _git(project, "commit", "-q", "-m", "telemetry on for everyone")
    decision = decide(project, environ={})
    assert (decision.enabled, decision.rule) == (False, Rule.UNTRUSTED_ANSWER)
    assert "tracked by git" in decision.reason and str(path) in decision.reason

    clone = tmp_path / "clone"
    _git(tmp_path, "clone", "-q", str(project), str(clone))
    assert read_record(project_config_path(clone)) is not None  # the answer came along
    assert not decide(clone, environ={}).enabled
    tracker = Tracker()
    assert tracker.track("role.selected", role="dev", project_root=clone) is None
    assert not (clone / ".flowspec" / "telemetry.jsonl").exists()

    # Untracked again, the person's own file counts.
    _git(project, "rm", "-q", "--cached", ".flowspec/telemetry-config.json")
    assert decide(project, environ={}).enabled


@needs_git
def test_a_committed_yes_never_beats_the_cloners_global_no(project: Path, tmp_path: Path) -> None:
    _git(project, "init", "-q")
    _say(project_config_path(project), "yes")
    _git(project, "add", "-f", "-A")
    _git(project, "commit", "-q", "-m", "x")
    _say(global_config_path(), "no")
    decision = decide(project, environ={})
    assert (decision.enabled, decision.rule) == (False, Rule.GLOBAL_ANSWER)


@needs_git
def test_a_committed_no_counts(project: Path) -> None:
    _git(project, "init", "-q")
    _say(project_config_path(project), "no")
    _git(project, "add", "-f", "-A")
    _git(project, "commit", "-q", "-m", "x")
    _say(global_config_path(), "yes")
    decision = decide(project, environ={})
    assert (decision.enabled, decision.rule) == (False, Rule.PROJECT_ANSWER)


@needs_git
def test_enable_project_writes_a_gitignore_so_add_all_never_stages_the_answer(
    project: Path,
) -> None:
    _git(project, "init", "-q")
    change = enable_telemetry(scope="project", project_root=project)
    assert change.decision.enabled
    assert (project / ".flowspec" / ".gitignore").is_file()
    _git(project, "add", "-A")
    staged = _git(project, "ls-files").split()
    assert "flowspec_workflow.yml" in staged
    assert not any("telemetry" in name for name in staged)
    assert decide(project, environ={}).enabled


@needs_git
@pytest.mark.parametrize("version", ["2", "3", "4"])
def test_git_index_lookup_in_every_index_version(tmp_path: Path, version: str) -> None:
    repo = tmp_path / "repo"
    (repo / ".flowspec").mkdir(parents=True)
    (repo / "sub" / ".flowspec").mkdir(parents=True)
    _git(repo, "init", "-q")
    _git(repo, "config", "index.version", version)
    for i in range(40):
        (repo / f"file{i}").write_text(str(i))
    (repo / "sub" / ".flowspec" / "telemetry-config.json").write_text("{}")
    (repo / ".flowspec" / "telemetry-config.jsonx").write_text("{}")
    _git(repo, "add", "-A")
    target = repo / ".flowspec" / "telemetry-config.json"
    target.write_text("{}")
    # A longer path that ends the same, and a longer name, are not the file.
    assert _git_index.is_tracked(str(target)) is False
    assert _git_index.is_tracked(str(repo / "sub" / ".flowspec" / "telemetry-config.json"))
    _git(repo, "add", "-N" if version == "3" else "-f", str(target))
    assert _git_index.is_tracked(str(target)) is True
    assert _git_index.is_tracked(str(repo / "file7")) is True
    assert _git_index.is_tracked(str(repo / "nope")) is False


@needs_git
def test_git_index_lookup_in_a_linked_worktree_and_an_empty_repository(
    project: Path, tmp_path: Path
) -> None:
    _git(project, "init", "-q")
    _say(project_config_path(project), "yes")
    assert _git_index.is_tracked(str(project_config_path(project))) is False  # no index yet
    _git(project, "add", "-f", "-A")
    _git(project, "commit", "-q", "-m", "x")
    linked = tmp_path / "linked"
    _git(project, "worktree", "add", "-q", str(linked))
    assert (linked / ".git").is_file()
    assert _git_index.is_tracked(str(project_config_path(linked))) is True
    assert not decide(linked, environ={}).enabled


def test_git_index_that_cannot_be_read_fails_closed_for_a_yes(project: Path) -> None:
    (project / ".git").mkdir()
    (project / ".git" / "index").write_bytes(b"DIRC\x00\x00\x00\x09garbage")
    _say(project_config_path(project), "yes")
    decision = decide(project, environ={})
    assert (decision.enabled, decision.rule) == (False, Rule.UNTRUSTED_ANSWER)
    assert "cannot tell whether git tracks it" in decision.reason
    os.unlink(project / ".git" / "index")
    os.mkfifo(project / ".git" / "index")  # never blocks, never read
    assert not decide(project, environ={}).enabled


# ------------------------------------------------------------ other users


@needs_root
def test_a_yes_planted_in_a_shared_parent_by_another_user_records_nothing(
    tmp_path: Path,
) -> None:
    shared = tmp_path / "shared"
    mine = shared / "my-work"
    mine.mkdir(parents=True)
    _say(project_config_path(shared), "yes")
    os.chown(project_config_path(shared), OTHER_UID, OTHER_UID)
    os.chown(shared / ".flowspec", OTHER_UID, OTHER_UID)
    _say(global_config_path(), "yes")  # even the victim's own global yes
    decision = decide(shared, environ={})
    assert (decision.enabled, decision.rule) == (False, Rule.FOREIGN_PROJECT)
    assert str(shared / ".flowspec") in decision.reason
    cwd = os.getcwd()
    os.chdir(mine)
    try:
        assert Tracker().track("role.selected", role="dev") is None
    finally:
        os.chdir(cwd)
    assert read_events(shared) == []
    assert sorted(p.name for p in (shared / ".flowspec").iterdir()) == ["telemetry-config.json"]


@needs_root
def test_a_yes_file_owned_by_another_user_in_my_folder_does_not_count(project: Path) -> None:
    path = project_config_path(project)
    _say(path, "yes")
    os.chown(path, OTHER_UID, OTHER_UID)
    decision = decide(project, environ={})
    assert (decision.enabled, decision.rule) == (False, Rule.UNTRUSTED_ANSWER)
    assert f"uid {OTHER_UID}" in decision.reason
    _say(global_config_path(), "yes")
    assert decide(project, environ={}).rule == Rule.GLOBAL_ANSWER  # my own yes still counts


@needs_root
def test_a_no_from_another_user_still_counts(project: Path) -> None:
    path = project_config_path(project)
    _say(path, "no")
    os.chown(path, OTHER_UID, OTHER_UID)
    _say(global_config_path(), "yes")
    decision = decide(project, environ={})
    assert (decision.enabled, decision.rule) == (False, Rule.PROJECT_ANSWER)


@needs_root
def test_a_global_yes_file_of_another_user_does_not_count() -> None:
    path = global_config_path()
    _say(path, "yes")
    os.chown(path, OTHER_UID, OTHER_UID)
    assert (decide(None, environ={}).enabled, decide(None, environ={}).rule) == (
        False,
        Rule.UNTRUSTED_ANSWER,
    )


@needs_root
def test_enable_project_refuses_a_folder_of_another_user(project: Path) -> None:
    (project / ".flowspec").mkdir()
    os.chown(project / ".flowspec", OTHER_UID, OTHER_UID)
    with pytest.raises(ConsentFileError, match="belongs to another user"):
        enable_telemetry(scope="project", project_root=project)
    assert list((project / ".flowspec").iterdir()) == []


# ----------------------------------------------------------- a no wins


def test_a_project_yes_never_outvotes_a_global_no(project: Path) -> None:
    _say(global_config_path(), "no")
    change = enable_telemetry(scope="project", project_root=project)
    assert change.overridden
    assert (change.decision.enabled, change.decision.rule) == (False, Rule.GLOBAL_ANSWER)


def test_a_global_yes_never_outvotes_a_project_no(project: Path) -> None:
    _say(project_config_path(project), "no")
    change = enable_telemetry(scope="global", project_root=project)
    assert (change.decision.enabled, change.decision.rule) == (False, Rule.PROJECT_ANSWER)


def test_a_no_for_an_older_notice_or_by_flowspec_is_still_a_no(project: Path) -> None:
    _say(global_config_path(), "yes")
    path = project_config_path(project)
    path.parent.mkdir()
    for content in (
        {"enabled": False, "answer": "no", "notice_version": 0},
        {"enabled": False, "consent_given_at": None, "consent_version": "1.0"},
        {"enabled": False},
        {"enabled": True, "answer": "no", "notice_version": 1},  # edited by hand: no wins
        {"enabled": False, "answer": "yes", "notice_version": 1},
    ):
        path.write_text(json.dumps(content))
        decision = decide(project, environ={})
        assert (decision.enabled, decision.rule) == (False, Rule.PROJECT_ANSWER), content


def test_a_flowspec_yes_means_ask_again(project: Path) -> None:
    path = project_config_path(project)
    path.parent.mkdir()
    path.write_text(
        json.dumps(
            {
                "enabled": True,
                "consent_given_at": "2026-12-01T21:25:19.623241+00:00",
                "consent_version": "1.0",
                "data_retention_days": 90,
                "metadata": {},
            }
        )
    )
    decision = decide(project, environ={})
    assert (decision.enabled, decision.rule) == (False, Rule.NOT_ASKED)
    _say(global_config_path(), "yes")
    assert decide(project, environ={}).rule == Rule.GLOBAL_ANSWER


# ------------------------------------------------------ special files


@pytest.mark.parametrize("kind", ["symlink", "dangling", "fifo", "folder", "dev-stdin", "huge"])
def test_a_special_consent_file_is_refused_without_blocking(project: Path, kind: str) -> None:
    path = project_config_path(project)
    path.parent.mkdir()
    mine = project / "elsewhere.json"
    _say(mine, "yes")
    if kind == "symlink":
        path.symlink_to(mine)
    elif kind == "dangling":
        path.symlink_to(project / "missing.json")
    elif kind == "fifo":
        os.mkfifo(path)
    elif kind == "folder":
        path.mkdir()
    elif kind == "dev-stdin":
        path.symlink_to("/dev/stdin")
    else:
        path.write_text(" " * (consent_rules.MAX_RECORD_BYTES + 1) + "{}")
    _say(global_config_path(), "yes")
    result: list[consent_rules.Decision] = []
    worker = threading.Thread(target=lambda: result.append(decide(project, environ={})))
    worker.start()
    worker.join(5)
    assert not worker.is_alive(), "reading the consent file blocked"
    assert (result[0].enabled, result[0].rule) == (False, Rule.UNREADABLE_ANSWER)
    assert result[0].warning and str(path) in result[0].warning
    with pytest.raises(ConsentFileError):
        enable_telemetry(scope="project", project_root=project)
    assert os.path.lexists(path)


def test_a_symlinked_global_file_of_my_own_is_followed(tmp_path: Path) -> None:
    dotfiles = tmp_path / "dotfiles.json"
    _say(dotfiles, "yes")
    global_config_path().parent.mkdir(parents=True)
    global_config_path().symlink_to(dotfiles)
    assert decide(None, environ={}).enabled


# ---------------------------------------------------- records both tools read


def test_our_rewrite_keeps_flowspecs_keys_and_every_unknown_key(project: Path) -> None:
    path = project_config_path(project)
    path.parent.mkdir()
    given = "2026-12-01T21:25:19.623241+00:00"
    path.write_text(
        json.dumps(
            {
                "enabled": True,
                "consent_given_at": given,
                "consent_version": "1.0",
                "data_retention_days": 30,
                "metadata": {"team": "x"},
                "someone_elses": [1, 2],
            }
        )
    )
    disable_telemetry(scope="project", project_root=project)
    data = json.loads(path.read_text())
    assert data["enabled"] is False
    assert data["consent_given_at"] == given  # the original consent time stays on a no
    assert (data["data_retention_days"], data["metadata"]) == (30, {"team": "x"})
    assert data["someone_elses"] == [1, 2]
    assert (data["answer"], data["notice_version"]) == ("no", 1)
    enable_telemetry(scope="project", project_root=project)
    data = json.loads(path.read_text())
    assert data["enabled"] is True and data["consent_given_at"] != given
    assert data["consent_given_at"].endswith("+00:00")  # flowspec's own time format
    assert data["someone_elses"] == [1, 2] and data["metadata"] == {"team": "x"}


def test_a_global_no_in_a_project_where_flowspecs_writer_is_on_stops_it(project: Path) -> None:
    path = project_config_path(project)
    path.parent.mkdir()
    path.write_text(json.dumps({"enabled": True, "consent_version": "1.0", "metadata": {}}))
    change = disable_telemetry(scope="global", project_root=project)
    assert change.also == (path,)
    assert json.loads(path.read_text())["enabled"] is False


def test_a_no_to_recording_drops_the_answer_to_sharing_a_yes_keeps_it(project: Path) -> None:
    path = project_config_path(project)
    enable_telemetry(scope="project", project_root=project)
    data = json.loads(path.read_text())
    data["share"] = {"answer": "yes", "decided_at": "2026-12-01T00:00:00Z", "notice_version": 1}
    path.write_text(json.dumps(data))
    enable_telemetry(scope="project", project_root=project)
    assert json.loads(path.read_text())["share"]["answer"] == "yes"
    disable_telemetry(scope="project", project_root=project)
    assert "share" not in json.loads(path.read_text())


# ------------------------------------------------------- DO_NOT_TRACK


@pytest.mark.parametrize("value", ["1", "2", "y", "-1", "true", "false", "no", " 1 ", "yes please"])
def test_do_not_track_with_any_value_but_empty_or_zero_stops_tracking(
    consented: Path, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    decision = decide(consented, environ={"DO_NOT_TRACK": value})
    assert (decision.enabled, decision.rule) == (False, Rule.DO_NOT_TRACK)
    monkeypatch.setenv("DO_NOT_TRACK", value)
    assert Tracker().track("role.selected", role="dev", project_root=consented) is None


@pytest.mark.parametrize("value", ["", "0", " 0 ", " "])
def test_do_not_track_empty_or_zero_means_unset(
    consented: Path, value: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert decide(consented, environ={"DO_NOT_TRACK": value}).enabled
    monkeypatch.setenv("DO_NOT_TRACK", value)
    assert Tracker().track("role.selected", role="dev", project_root=consented) is not None
