"""`names`: every name derived from the host tool's name."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from flowspec_telemetry.core.names import DEFAULT_TOOL, FLOWSPEC, ToolNames


def test_default_names_are_flowspec() -> None:
    assert DEFAULT_TOOL == "flowspec"
    assert ToolNames() == FLOWSPEC
    assert FLOWSPEC.project_dir == ".flowspec"
    assert FLOWSPEC.env_prefix == "FLOWSPEC_"
    assert FLOWSPEC.workflow_file == "flowspec_workflow.yml"
    assert FLOWSPEC.env("TELEMETRY_DEBUG") == "FLOWSPEC_TELEMETRY_DEBUG"


def test_another_tool_changes_every_name() -> None:
    names = ToolNames("acme-spec")
    assert names.project_dir == ".acme-spec"
    assert names.env_prefix == "ACME_SPEC_"  # a hyphen is not valid in a variable name
    assert names.env("ROLE") == "ACME_SPEC_ROLE"
    assert names.workflow_file == "acme-spec_workflow.yml"
    assert repr(names) == "ToolNames('acme-spec')"


def test_value_object_equality_and_hash() -> None:
    assert ToolNames("acme") == ToolNames("acme")
    assert ToolNames("acme") != ToolNames("other")
    assert ToolNames("acme") != "acme"
    assert hash(ToolNames("acme")) == hash(ToolNames("acme"))
    assert len({ToolNames("acme"), ToolNames("acme"), FLOWSPEC}) == 2
    with pytest.raises(AttributeError):
        ToolNames().other = 1  # type: ignore[attr-defined]  # __slots__


def test_config_dir_follows_an_absolute_xdg_config_home(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "xdg"))
    assert ToolNames("acme").config_dir() == os.path.join(str(tmp_path / "xdg"), "acme")
    assert ToolNames("acme").user_config_dir() == tmp_path / "xdg" / "acme"


@pytest.mark.parametrize("value", ["", "relative/config"])
def test_config_dir_ignores_an_empty_or_relative_xdg_config_home(
    value: str, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", value)
    assert FLOWSPEC.config_dir() == os.path.join(str(isolated_env), ".config", "flowspec")


def test_config_dir_without_xdg_is_under_home(
    isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("XDG_CONFIG_HOME")
    assert FLOWSPEC.user_config_dir() == isolated_env / ".config" / "flowspec"
