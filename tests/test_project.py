"""`project`: finding the project a call belongs to."""

from __future__ import annotations

from pathlib import Path

import pytest

from flowspec_telemetry.core.names import ToolNames
from flowspec_telemetry.core.project import find_project_root, find_root


def test_the_workflow_file_marks_a_project_from_any_folder_below(project: Path) -> None:
    deep = project / "a" / "b" / "c"
    deep.mkdir(parents=True)
    assert find_root(deep) == str(project)
    assert find_root(str(project)) == str(project)
    assert find_project_root(deep) == project
    assert isinstance(find_project_root(deep), Path)


def test_a_flowspec_folder_alone_marks_a_project(tmp_path: Path) -> None:
    (tmp_path / "p" / ".flowspec").mkdir(parents=True)
    (tmp_path / "p" / "src").mkdir()
    assert find_root(tmp_path / "p" / "src") == str(tmp_path / "p")


def test_the_nearest_project_wins(project: Path) -> None:
    inner = project / "vendor" / "inner"
    (inner / ".flowspec").mkdir(parents=True)
    assert find_root(inner / ".flowspec") == str(inner)
    assert find_root(project / "vendor") == str(project)


def test_look_alikes_do_not_mark_a_project(tmp_path: Path) -> None:
    root = tmp_path / "nothing"
    root.mkdir()
    (root / ".flowspec").write_text("a file, not a folder")
    (root / "flowspec_workflow.yml").mkdir()  # a folder, not a file
    assert find_root(root) is None
    assert find_project_root(root) is None


def test_outside_any_project_is_none_and_creates_nothing(tmp_path: Path) -> None:
    before = sorted(tmp_path.rglob("*"))
    assert find_root(tmp_path) is None
    assert sorted(tmp_path.rglob("*")) == before


def test_a_relative_start_and_the_current_folder(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    (project / "sub").mkdir()
    monkeypatch.chdir(project)
    assert find_root() == str(project)
    assert find_root("sub") == str(project)
    assert find_project_root() == project


def test_another_tool_looks_for_its_own_names(tmp_path: Path, project: Path) -> None:
    acme = ToolNames("acme")
    assert find_root(project, acme) is None
    (project / "acme_workflow.yml").write_text("")
    assert find_root(project / ".", acme) == str(project)
    other = tmp_path / "o"
    (other / ".acme").mkdir(parents=True)
    assert find_project_root(other, acme) == other
    assert find_project_root(other) is None
