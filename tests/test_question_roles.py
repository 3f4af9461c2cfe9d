"""Question 3 is asked about the host's own developer role and security agents (issue 14.11)."""

from __future__ import annotations

from typing import Any

from flowspec_telemetry.analysis.insights import compute_insights
from flowspec_telemetry.analysis.question_roles import question_roles
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.roles import DEFAULT_CATALOG, catalog_from_mapping

ACME_WORKFLOW = {
    "roles": {
        "primary": "eng",
        "definitions": {
            "pm": {"display_name": "Product Manager", "agents": ["@planner"]},
            "eng": {"display_name": "Software Developer", "agents": ["@coder"]},
            "appsec": {"display_name": "Application Security", "agents": ["@threat-modeler"]},
        },
    },
    "workflows": {"build": {"command": "/acme:build", "agents": ["@coder"]}},
}


def _acme() -> Any:
    return catalog_from_mapping(ACME_WORKFLOW, source="acme_workflow.yml")


def test_flowspec_asks_about_dev_and_its_security_agents() -> None:
    asked = question_roles(DEFAULT_CATALOG, FLOWSPEC)
    assert (asked.developer_role, asked.security_role) == ("dev", "sec")
    assert "@secure-by-design-engineer" in asked.security_agents
    assert asked.security_agents >= set(DEFAULT_CATALOG.roles["sec"].agents)


def test_another_catalog_is_asked_about_its_own_roles() -> None:
    asked = question_roles(_acme(), ToolNames("acme"))
    assert (asked.developer_role, asked.security_role) == ("eng", "appsec")
    assert asked.security_agents == {"@threat-modeler"}


def test_the_host_names_its_roles_and_extra_security_agents() -> None:
    names = ToolNames("acme", developer_role="pm", security_role="appsec", security_agents=("@x",))
    asked = question_roles(_acme(), names)
    assert (asked.developer_role, asked.security_role) == ("pm", "appsec")
    assert asked.security_agents == {"@threat-modeler", "@x"}


def test_without_a_developer_like_role_the_primary_role_is_asked_about() -> None:
    data = {
        "roles": {
            "primary": "builder",
            "definitions": {"builder": {"display_name": "Builder"}, "ops": {"display_name": "Ops"}},
        }
    }
    asked = question_roles(catalog_from_mapping(data, source="x"), ToolNames("acme"))
    assert (asked.developer_role, asked.security_role) == ("builder", None)
    assert asked.security_agents == frozenset()


def _events(role: str, agents: list[str]) -> list[dict[str, Any]]:
    return [
        {"event_type": "agent.invoked", "role": role, "agent": a, "session_id": f"s{i}"}
        for i, a in enumerate(agents)
    ]


def test_question_3_answers_for_the_other_catalogs_developer_role() -> None:
    events = _events("eng", ["@threat-modeler", "@coder", "@coder", "@threat-modeler", "@coder"])
    doc = compute_insights(events, _acme(), names=ToolNames("acme")).to_json()
    security = doc["security"]
    assert security["developer"] is not None
    assert security["developer"]["invocation_share"]["numerator"] == 2
    assert security["developer"]["invocation_share"]["value"] == 0.4
    assert security["answer"].startswith("Yes: developer sessions using a security agent")
    assert security["security_agents"] == ["@threat-modeler"]


def test_before_the_fix_the_other_catalog_said_not_recorded() -> None:
    """The old literal `dev` found nothing in this catalog: the answer must not say that."""
    events = _events("eng", ["@coder"] * 5)
    doc = compute_insights(events, _acme(), names=ToolNames("acme")).to_json()
    assert "has been recorded yet" not in doc["security"]["answer"]
    assert doc["security"]["answer"].startswith("Not so far")
