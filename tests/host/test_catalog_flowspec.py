"""The catalog against real flowspec material (issue 12.1, issue 11.6).

Projects made by the real `flowspec init`, a file migrated by flowspec's own
`migrate_workflow_config`, workflow files from flowspec's history and its
example files (tests/data/flowspec/, see its README): in each, every command
flowspec ships under `templates/commands/` and every agent its templates and
workflow files name is stored raw, never hashed; and the built-in snapshot is
exactly what flowspec's source ships.
"""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from flowspec_telemetry.consent.status import gather
from flowspec_telemetry.core import _flowspec_snapshot, consent_rules, roles
from flowspec_telemetry.core._flowspec_source import read_release, read_tree
from flowspec_telemetry.core.roles import DEFAULT_CATALOG, catalog_from_shipped, load_catalog
from flowspec_telemetry.core.tracker import Tracker

DATA = Path(__file__).parent.parent / "data" / "flowspec"
HISTORY = sorted(DATA.glob("*.yml"))


@pytest.fixture(scope="module")
def flowspec_source(flowspec_exe: Path) -> Path:
    """The root of the installed flowspec's source tree (an editable install of ../shared)."""
    spec = importlib.util.find_spec("flowspec_cli")
    assert spec is not None and spec.origin is not None
    root = Path(spec.origin).parents[2]
    if not (root / "templates" / "commands").is_dir():
        pytest.skip(f"flowspec is installed without its source tree ({root})")
    return root


@pytest.fixture(scope="module")
def shipped(flowspec_source: Path) -> tuple[set[str], set[str]]:
    """Every command under templates/commands/ and every agent flowspec's files name."""
    found = read_tree(str(flowspec_source))
    catalog = catalog_from_shipped(found)
    return set(found.commands), set(catalog.known_agents)


def _consented(root: Path) -> Path:
    consent_rules.write_record(
        consent_rules.project_config_path(root), consent_rules.new_record("yes")
    )
    return root


def _assert_stored_raw(root: Path, commands: set[str], agents: set[str]) -> None:
    tracker = Tracker()
    hashed_commands = {c for c in commands if tracker.stored("command", c, root) != c}
    hashed_agents = {a for a in agents if tracker.stored("agent", a, root) != a}
    assert hashed_commands == set()
    assert hashed_agents == set()
    # as hosts spell them: Skill gives `flow:validate`, templates `track-agent backend-engineer`
    assert tracker.stored("command", "flow:validate", root) == "/flow:validate"
    assert tracker.stored("command", "/flow:implement feature-x --fast", root) == "/flow:implement"
    assert tracker.stored("agent", "backend-engineer", root) == "@backend-engineer"
    assert tracker.stored("role", "pm", root) == "pm"


def test_the_snapshot_is_what_flowspecs_source_ships(flowspec_source: Path) -> None:
    from_source = catalog_from_shipped(read_tree(str(flowspec_source)))
    assert from_source.known_commands == DEFAULT_CATALOG.known_commands
    assert from_source.known_agents == DEFAULT_CATALOG.known_agents
    assert from_source.known_roles == DEFAULT_CATALOG.known_roles
    assert from_source.roles == DEFAULT_CATALOG.roles
    assert from_source.workflows == DEFAULT_CATALOG.workflows
    assert _flowspec_snapshot.RELEASE in str(flowspec_source)  # made from this release


def test_the_snapshot_knows_what_the_issue_found_hashed(shipped: tuple[set[str], set[str]]) -> None:
    commands, agents = shipped
    assert len({c for c in commands if c.startswith("/flow:")}) == 18
    assert "/vibe" in commands
    for name in ("/flow:intake", "/flow:custom", "/flow:security_fix", "/flow:submit-n-watch-pr"):
        assert name in DEFAULT_CATALOG.known_commands
    for agent in (
        "@frontend-code-reviewer",
        "@backend-code-reviewer",
        "@technical-writer",
        "@tech-writer",
        "@pr-monitor",
    ):
        assert agent in DEFAULT_CATALOG.known_agents
    assert "pm" in DEFAULT_CATALOG.known_roles
    assert not any(a.startswith(("@v", "@your-")) and "-" not in a[2:] for a in agents)


def test_the_installed_package_is_read_without_importing_it(flowspec_exe: Path) -> None:
    found = read_release()
    assert found is not None
    assert "/flow:research" in found.commands  # only the packaged templates have it
    assert roles.builtin_catalog().known_commands >= DEFAULT_CATALOG.known_commands


@pytest.fixture(scope="module")
def init_project(flowspec_exe: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project made by the real `flowspec init`, offline."""
    parent = tmp_path_factory.mktemp("init")
    subprocess.run(
        [
            str(flowspec_exe),
            "init",
            "proj",
            "--ai",
            "claude",
            "--script",
            "sh",
            "--no-git",
            "--ignore-agent-tools",
            "--constitution",
            "light",
            "--no-validation-prompts",
        ],
        cwd=parent,
        capture_output=True,
        check=True,
        timeout=300,
        env={**os.environ, "NO_COLOR": "1"},
    )
    return parent / "proj"


def test_a_project_made_by_flowspec_init(
    init_project: Path, tmp_path: Path, shipped: tuple[set[str], set[str]]
) -> None:
    root = tmp_path / "proj"
    shutil.copytree(init_project, root, symlinks=True)
    text = (root / "flowspec_workflow.yml").read_text()
    assert "roles:" not in text and "workflows:" not in text  # what the issue found
    data = gather(root)
    assert "malformed" not in data["catalog"]
    assert data["catalog"].startswith(f"{len(load_catalog(root).known_roles)} roles")
    _consented(root)
    commands, agents = shipped
    project_commands = {
        f"/{p.parent.name}:{p.stem}" for p in (root / ".claude" / "commands").glob("*/*.md")
    }
    assert project_commands  # init copied the templates
    _assert_stored_raw(root, commands | project_commands, agents)


def test_a_file_migrated_by_flowspecs_own_migration(
    init_project: Path, tmp_path: Path, shipped: tuple[set[str], set[str]]
) -> None:
    from flowspec_cli.workflow.migration import migrate_workflow_config

    root = tmp_path / "proj"
    shutil.copytree(init_project, root, symlinks=True)
    result = migrate_workflow_config(root)
    assert result.migrated and not result.errors
    text = (root / "flowspec_workflow.yml").read_text()
    assert "workflows: {}" in text  # flowspec's migration writes no workflow
    catalog = load_catalog(root)
    assert catalog.source == "flowspec_workflow.yml"
    assert "/flow:implement" in catalog.known_commands
    assert {"/dev:debug", "/sec:scan", "/ops:monitor"} <= catalog.known_commands
    commands, agents = shipped
    _assert_stored_raw(_consented(root), commands, agents)


@pytest.mark.parametrize("path", HISTORY, ids=[p.name for p in HISTORY])
def test_workflow_files_from_flowspecs_history_and_examples(
    path: Path, tmp_path: Path, shipped: tuple[set[str], set[str]]
) -> None:
    root = tmp_path / "proj"
    root.mkdir()
    shutil.copy(path, root / "flowspec_workflow.yml")
    data = gather(root)
    assert "malformed" not in data["catalog"] and "cannot" not in data["catalog"]
    catalog = load_catalog(root)
    assert catalog.source == "flowspec_workflow.yml"
    own = roles.catalog_from_mapping(yaml.safe_load(path.read_text()), source="f", base=None)
    commands, agents = shipped
    _assert_stored_raw(_consented(root), commands | own.known_commands, agents | own.known_agents)


def _validate(flowspec_exe: Path, root: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(flowspec_exe), "workflow", "validate"],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env={**os.environ, "NO_COLOR": "1", "COLUMNS": "200"},
    )


def test_the_veto_in_metadata_passes_flowspec_workflow_validate(
    flowspec_exe: Path, flowspec_source: Path, tmp_path: Path
) -> None:
    root = tmp_path / "proj"
    (root / "schemas").mkdir(parents=True)
    shutil.copy(flowspec_source / "schemas" / "flowspec_workflow.schema.json", root / "schemas")
    default = (flowspec_source / "flowspec_workflow.yml").read_text()
    (root / "flowspec_workflow.yml").write_text(default)
    assert _validate(flowspec_exe, root).returncode == 0

    with_veto = default.replace("metadata:\n", "metadata:\n  telemetry:\n    enabled: false\n", 1)
    (root / "flowspec_workflow.yml").write_text(with_veto)
    done = _validate(flowspec_exe, root)
    assert done.returncode == 0, done.stdout + done.stderr
    _consented(root)
    data = gather(root)
    assert (data["enabled"], data["rule"]) == (False, "team_policy")
    assert data["team_policy_detail"] == {
        "file": "flowspec_workflow.yml",
        "key": "metadata.telemetry.enabled",
        "value": "false",
        "allows": False,
    }
    assert Tracker().track("role.selected", role="dev", project_root=root) is None

    # the old place still vetoes, though flowspec's schema refuses it (why it moved)
    (root / "flowspec_workflow.yml").write_text(default + "\ntelemetry:\n  enabled: false\n")
    assert _validate(flowspec_exe, root).returncode == 1
    roles._memory.clear()
    assert gather(root)["team_policy_detail"]["key"] == "telemetry.enabled"
    assert Tracker().track("role.selected", role="dev", project_root=root) is None
