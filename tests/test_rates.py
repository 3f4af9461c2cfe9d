"""The one set of rate formatters (`analysis.rates`) and `Insights.add_counts` for aggregates."""

from __future__ import annotations

from flowspec_telemetry.analysis.insights import Insights
from flowspec_telemetry.analysis.rates import (
    percent,
    rate,
    rate_figure,
    rate_phrase,
    rate_text,
    why_no_value,
)
from flowspec_telemetry.core.roles import DEFAULT_CATALOG


def test_a_rate_above_its_base_is_not_comparable_everywhere() -> None:
    over = rate(6, 5)
    assert over["value"] is None and over["comparable"] is False
    assert why_no_value(over) == "not comparable"
    assert rate_figure(over) == "not comparable (6/5)"
    assert rate_phrase(over).startswith("not comparable: more than its base")
    assert rate_text(over).startswith("not comparable")


def test_a_small_base_is_not_enough_data_everywhere() -> None:
    small = rate(1, 4)
    assert why_no_value(small) == "not enough data"
    assert rate_figure(small) == "not enough data (1/4)"
    assert rate_phrase(small) == "not enough data (1 of 4)"
    assert rate_figure(None) == "not enough data" and why_no_value(None) == "not enough data"


def test_a_rate_with_a_value_is_said_as_a_whole_percentage() -> None:
    good = rate(8, 10)
    assert good["value"] == 0.8 and why_no_value(good) == ""
    assert rate_figure(good) == "80% (8/10)"
    assert rate_phrase(good) == "80% (8 of 10)"
    assert percent(good["value"]) == "80%" and percent(None) == "not enough data"


def test_the_org_terminal_says_what_the_local_terminal_says() -> None:
    from flowspec_telemetry.cli import _insights_cmds as insights_cmds
    from flowspec_telemetry.cli import _org_cmds as org_cmds

    assert insights_cmds.rate_figure is org_cmds.rate_figure is rate_figure


def test_counting_an_aggregate_gives_the_answers_of_the_events_it_stands_for() -> None:
    events = []
    for i in range(7):
        events.append({"event_type": "role.selected", "role": "dev", "source": "init"})
        events.append({"event_type": "command.started", "role": "dev", "command": "/flow:plan"})
        events.append({"event_type": "command.completed", "role": "dev", "command": "/flow:plan"})
        agent = "@secure-by-design-engineer" if i % 2 else "@backend-engineer"
        events.append({"event_type": "agent.invoked", "role": "dev", "agent": agent})
        events.append(
            {"event_type": "handoff.offered", "handoff": {"from_agent": "@a", "to_agent": "@b"}}
        )
    events.append({"event_type": "role.changed", "role": "qa", "previous_role": "dev"})
    one_by_one = Insights.for_catalog(DEFAULT_CATALOG)
    for event in events:
        one_by_one.add(event)

    counted = Insights.for_catalog(DEFAULT_CATALOG)
    counted.add_counts("role.selected", 7, role="dev", at_init=True)
    counted.add_counts("command.started", 7, role="dev", value="/flow:plan")
    counted.add_counts("command.completed", 7, role="dev", value="/flow:plan")
    counted.add_counts("agent.invoked", 3, role="dev", value="@secure-by-design-engineer")
    counted.add_counts("agent.invoked", 4, role="dev", value="@backend-engineer")
    counted.add_counts("handoff.offered", 7, pair=("@a", "@b"))
    counted.add_counts("role.changed", 1, pair=("dev", "qa"))
    mine, theirs = counted.to_json(), one_by_one.to_json()
    for section in ("roles", "commands", "handoffs", "completion"):
        assert mine[section] == theirs[section], section
    assert mine["security"]["per_role"]["dev"]["invocation_share"] == rate(3, 7)
    assert mine["based_on"]["events"] == theirs["based_on"]["events"] == len(events)


def test_an_unknown_aggregate_is_counted_not_analysed() -> None:
    acc = Insights.for_catalog(DEFAULT_CATALOG)
    acc.add_counts("table.of.a.later.schema", 9)
    doc = acc.to_json()
    assert doc["based_on"]["events"] == 9
    assert doc["based_on"]["unknown_event_types"] == {"table.of.a.later.schema": 9}
