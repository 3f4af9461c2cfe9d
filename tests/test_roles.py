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
    assert set(catalog.roles) == {"arch", "dev", "sec", "qa", "ops", "all"}
    assert catalog.primary == "dev"
    assert catalog.roles["sec"].display_name == "Security Engineer"
    assert catalog.roles["sec"].icon == "🔒"
    assert catalog.home_role("@secure-by-design-engineer") == "sec"
    assert catalog.home_role("@pm-planner") is None  # a workflow agent no role owns
    assert "@pm-planner" in catalog.known_agents
    assert catalog.command_workflows["/flow:implement"] == "implement"
    assert catalog.team_telemetry is True
    assert "/flow:validate" in catalog.known_commands


def test_no_file_means_the_default_catalog(tmp_path: Path) -> None:
    assert load_catalog(tmp_path) is DEFAULT_CATALOG
    assert load_catalog(None) is DEFAULT_CATALOG
    assert DEFAULT_CATALOG.known_roles == {"arch", "dev", "sec", "qa", "ops", "all"}
    assert DEFAULT_CATALOG.home_role("@backend-engineer") == "dev"


@pytest.mark.parametrize(
    ("text", "why"),
    [
        ("", "malformed"),
        ("roles: [unclosed", "malformed"),
        ("just a string", "malformed"),
        ("roles:\n  definitions: {}\n", "no roles.definitions"),
        ("roles:\n  definitions:\n    '!!bad id': {}\n", "no valid role"),
        ("\x00\x01 binary", "malformed"),
    ],
)
def test_broken_files_fall_back_to_the_default_and_say_why(text: str, why: str) -> None:
    catalog = parse_workflow_text(text, source="flowspec_workflow.yml")
    assert catalog.known_roles == DEFAULT_CATALOG.known_roles
    assert catalog.source.startswith("built-in default catalog (flowspec_workflow.yml")
    assert why in catalog.source


def test_veto_survives_a_malformed_file() -> None:
    text = "roles: [broken\ntelemetry:\n  enabled: false\n"
    assert parse_workflow_text(text, source="f").team_telemetry is False


def test_unknown_sections_and_odd_values_are_ignored() -> None:
    text = SAMPLE + "\nfuture_section:\n  anything: [1, 2]\n"
    text = text.replace('agents: ["@sre-agent"]', 'agents: ["@sre-agent", 42, null, "bad name!"]')
    catalog = parse_workflow_text(text, source="f")
    assert catalog.roles["ops"].agents == ("@sre-agent",)


def test_unknown_primary_is_dropped() -> None:
    catalog = parse_workflow_text(SAMPLE.replace('primary: "dev"', 'primary: "wizard"'), source="f")
    assert catalog.primary is None


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
