"""The role catalog: the sample file, the default, and files that are broken."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from flowspec_telemetry.core import roles
from flowspec_telemetry.core.roles import DEFAULT_CATALOG, load_catalog, parse_workflow_text

SAMPLE = (Path(__file__).parent / "data" / "flowspec_workflow.yml").read_text()


def test_sample_catalog_is_read_fully(project: Path) -> None:
    catalog = load_catalog(project)
    assert catalog.source == "flowspec_workflow.yml"
    assert {"arch", "dev", "sec", "qa", "ops", "all"} <= set(catalog.roles)
    assert "pm" in catalog.roles  # the built-in catalog's, kept: a file only extends it
    assert catalog.primary == "dev"
    assert catalog.roles["sec"].display_name == "Security Engineer"
    assert catalog.roles["sec"].icon == "🔒"
    assert catalog.home_role("@secure-by-design-engineer") == "sec"
    assert catalog.home_role("@pm-planner") is None  # a workflow agent no role owns
    assert "@pm-planner" in catalog.known_agents
    assert catalog.command_workflows["/flow:implement"] == "implement"
    assert catalog.team_telemetry is True
    assert "/flow:validate" in catalog.known_commands


def test_no_file_means_the_built_in_catalog(tmp_path: Path) -> None:
    assert load_catalog(tmp_path).known_commands == DEFAULT_CATALOG.known_commands
    assert load_catalog(None).known_roles == DEFAULT_CATALOG.known_roles
    assert DEFAULT_CATALOG.known_roles == {"arch", "dev", "sec", "qa", "ops", "all", "pm"}
    assert DEFAULT_CATALOG.home_role("@backend-engineer") == "dev"
    assert "/flow:security_fix" in DEFAULT_CATALOG.known_commands
    assert "/dev:debug" in DEFAULT_CATALOG.roles["dev"].commands


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("roles: [unclosed", "malformed"),
        ("\x00\x01 binary", "malformed"),
        ("a: &x [1]\nb: *x\n" + "c: *x\n" * 60, "aliases"),
        ("[" * 60 + "]" * 60, "nests deeper"),
    ],
)
def test_broken_files_fall_back_to_the_built_in_catalog_and_say_why(text: str, why: str) -> None:
    catalog = parse_workflow_text(text, source="flowspec_workflow.yml")
    assert catalog.known_commands == DEFAULT_CATALOG.known_commands
    assert catalog.source.startswith("built-in catalog (flowspec_workflow.yml")
    assert why in catalog.source


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "empty"),
        ("just a string", "not a mapping"),
        ("- a\n- b\n", "a list"),
    ],
)
def test_a_document_that_is_not_a_mapping_says_what_it_is(text: str, why: str) -> None:
    catalog = parse_workflow_text(text, source="flowspec_workflow.yml")
    assert catalog.known_commands == DEFAULT_CATALOG.known_commands
    assert why in catalog.source and "malformed" not in catalog.source
    assert catalog.team_telemetry is None  # no policy was written: nothing to veto


@pytest.mark.parametrize(
    "text",
    [
        "roles:\n  definitions: {}\n",
        "roles:\n  definitions:\n    '!!bad id': {}\n",
        "version: '2.0'\nworkflows: {}\n",
        "version: '1.0'\ntransitions: []\n",
    ],
)
def test_valid_files_with_empty_sections_never_empty_the_catalog(text: str) -> None:
    catalog = parse_workflow_text(text, source="flowspec_workflow.yml")
    assert catalog.source == "flowspec_workflow.yml"
    assert catalog.known_commands >= DEFAULT_CATALOG.known_commands
    assert catalog.known_agents >= DEFAULT_CATALOG.known_agents
    assert catalog.known_roles >= DEFAULT_CATALOG.known_roles


def test_project_files_add_role_commands_custom_workflows_and_agents_anywhere() -> None:
    text = """
roles:
  definitions:
    dev:
      commands: ["debug", "/dev:profile"]
      agents: ["@backend-engineer", "rust-engineer"]
    data:
      display_name: Data
      commands: [ingest]
workflows:
  ship:
    command: "flow:ship"
    agents: [{name: shipper, identity: "@ship-captain"}]
custom_workflows:
  nightly: {command: "/flow:nightly", steps: [{workflow: ship}]}
notes:
  reviewer: "@night-owl"
"""
    catalog = parse_workflow_text(text, source="flowspec_workflow.yml")
    assert {"/dev:debug", "/dev:profile", "/data:ingest", "/flow:ship", "/flow:nightly"} <= (
        catalog.known_commands
    )
    assert {"@rust-engineer", "@ship-captain", "@night-owl"} <= catalog.known_agents
    assert catalog.home_role("@rust-engineer") == "dev"
    assert catalog.roles["dev"].display_name == "Developer"  # kept from the built-in role
    assert "@frontend-engineer" in catalog.roles["dev"].agents  # extended, not replaced
    assert catalog.counts["added"] == {"roles": 1, "commands": 4, "agents": 3}
    assert "1 roles, 4 commands and 3 agents from flowspec_workflow.yml" in catalog.summary()


def test_veto_survives_a_malformed_file() -> None:
    text = "roles: [broken\ntelemetry:\n  enabled: false\n"
    assert parse_workflow_text(text, source="f").team_telemetry is False


def test_unknown_sections_and_odd_values_are_ignored() -> None:
    text = SAMPLE + "\nfuture_section:\n  anything: [1, 2]\n"
    text = text.replace('agents: ["@sre-agent"]', 'agents: ["@sre-agent", 42, null, "bad name!"]')
    catalog = parse_workflow_text(text, source="f")
    assert catalog.roles["ops"].agents == ("@sre-agent",)


def test_unknown_primary_keeps_the_built_in_one() -> None:
    catalog = parse_workflow_text(SAMPLE.replace('primary: "dev"', 'primary: "wizard"'), source="f")
    assert catalog.primary == "dev"


def test_parse_is_cached_in_memory_and_as_json(project: Path) -> None:
    (project / ".flowspec").mkdir()
    first = load_catalog(project, write_cache=True)
    cache = project / ".flowspec" / roles.CACHE_FILE
    assert json.loads(cache.read_text())["catalog"]["primary"] == "dev"
    assert load_catalog(project) is first
    roles._memory.clear()
    second = load_catalog(project)  # from the JSON cache: no YAML parse needed
    assert second.known_agents == first.known_agents


def test_changed_file_is_read_again(project: Path) -> None:
    load_catalog(project)
    wf = project / "flowspec_workflow.yml"
    wf.write_text(SAMPLE.replace('"@sre-agent"', '"@sre-agent", "@chaos-monkey"'))
    assert "@chaos-monkey" in load_catalog(project).known_agents


def test_cached_catalog_avoids_importing_yaml(project: Path) -> None:
    import subprocess

    (project / ".flowspec").mkdir()
    load_catalog(project, write_cache=True)
    code = (
        "import sys\nfrom flowspec_telemetry.core.roles import load_catalog\n"
        f"c = load_catalog(__import__('pathlib').Path({str(project)!r}))\n"
        "print(c.primary, 'yaml' in sys.modules)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["dev", "False"]


def test_huge_file_is_not_parsed(project: Path) -> None:
    (project / "flowspec_workflow.yml").write_text("# x\n" * 400_000)
    assert "larger than 1 MiB" in load_catalog(project).source


@pytest.mark.parametrize(
    ("written", "policy"),
    [("false", False), ('"false"', False), ("no", False), ("0", False), ("off", False),
     ("maybe", False), ("[1]", False), ("true", True), ('"yes"', True), ("1", True)],
)  # fmt: skip
def test_team_policy_is_a_veto_unless_an_unmistakable_yes(written: str, policy: bool) -> None:
    text = SAMPLE.replace("enabled: true", f"enabled: {written}")
    assert parse_workflow_text(text, source="f").team_telemetry is policy
