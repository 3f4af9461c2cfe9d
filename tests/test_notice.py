"""The notice, the schema and the code share one definition; changing it needs a new notice."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from flowspec_telemetry.consent import notice
from flowspec_telemetry.core import consent_rules, privacy
from flowspec_telemetry.core.events import EVENT_TYPES, FIELDS, NEVER_COLLECTED

# One entry per notice version: what that notice promised. Changing events.FIELDS,
# EVENT_TYPES or NEVER_COLLECTED changes the fingerprint: then bump
# consent_rules.NOTICE_VERSION (everyone is asked again) and add the new pair here.
# Version 1 was re-fingerprinted once before any release, to make the
# invocation_id purpose say that a host's own id is stored as a keyed hash, and
# once to add `legacy_type` (the type flowspec's earlier API recorded an event as).
FINGERPRINTS = {1: "f202f5da1aabf7c1"}


def test_the_definition_cannot_change_without_a_new_notice_version() -> None:
    assert notice.fingerprint() == FINGERPRINTS[consent_rules.NOTICE_VERSION]


def test_notice_lists_every_field_and_never_collected_item(project: Path) -> None:
    text = notice.notice_text(project)
    for field in FIELDS:
        assert f"- {field.name}: {field.purpose}" in text
    for item in NEVER_COLLECTED:
        assert f"- {item}" in text
    for spec in EVENT_TYPES.values():
        assert spec.event_type.value in text
    assert str(project / ".flowspec" / "telemetry.jsonl") in text
    assert "nothing is ever sent anywhere" in text


def test_sample_event_is_this_projects_and_writes_nothing(project: Path) -> None:
    sample = notice.sample_event(project)
    assert sample["role"] == "dev"
    assert sample["agent"].startswith("@")
    assert privacy.is_hash(sample["project_id"])
    assert set(sample) <= {f.name for f in FIELDS}
    assert sorted(p.name for p in project.iterdir()) == ["flowspec_workflow.yml"]
    assert notice.sample_event(None)["event_type"] == "agent.invoked"


def test_schema_matches_the_definition() -> None:
    data = notice.schema()
    assert [f["name"] for f in data["fields"]] == [f.name for f in FIELDS]
    assert {f["sensitivity"] for f in data["fields"]} == {
        notice.sensitivity_label(f.sensitivity) for f in FIELDS
    }
    json.dumps(data)


def test_importing_the_api_and_prompt_stays_free_of_typer_and_rich() -> None:
    code = (
        "import sys, flowspec_telemetry, flowspec_telemetry.consent.prompt, flowspec_telemetry.consent.answers;"
        "from flowspec_telemetry import maybe_prompt;"
        "r = maybe_prompt();"
        "assert not r.asked, r;"
        "print(sorted(m for m in ('typer', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
