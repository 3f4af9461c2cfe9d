"""The share report: catalog counts only, k suppression, day granularity, noise, validator."""

# ruff: noqa: S311 - seeded generators make the noise tests reproducible; real runs use SystemRandom

from __future__ import annotations

import copy
import json
import math
import random
import re
from collections import Counter
from datetime import date
from typing import Any

import pytest

from flowspec_telemetry.core.roles import DEFAULT_CATALOG
from flowspec_telemetry.report import _noise as noise
from flowspec_telemetry.report.share import (
    TABLES,
    _catalog_lists,
    build_share_report,
    count_events,
    validate_share_report,
)

from ._data import known_events

LISTS = _catalog_lists(DEFAULT_CATALOG)


def report(events: list[dict[str, Any]], **kw: Any) -> dict[str, Any]:
    cells, first, last = count_events(events, LISTS)
    return build_share_report(cells, LISTS, period=(first, last), today=date(2026, 11, 27), **kw)


def rows(rep: dict[str, Any], table: str) -> dict[tuple[str, ...], int]:
    return {tuple(r[:-1]): r[-1] for r in rep["tables"][table]["rows"]}


def test_known_dataset_counts_and_suppression() -> None:
    rep = report(known_events())
    assert validate_share_report(rep) == []
    assert rows(rep, "commands_started") == {("dev", "/flow:implement"): 10}
    assert rows(rep, "commands_completed") == {("dev", "/flow:implement"): 8}
    assert rows(rep, "commands_failed") == {}  # 1 < k
    assert rows(rep, "agent_invocations") == {("dev", "@backend-engineer"): 6}  # 2 sec: suppressed
    assert rows(rep, "handoffs_offered") == {("@pm-planner", "@software-architect"): 8}
    assert rows(rep, "handoffs_clicked") == {("@pm-planner", "@software-architect"): 6}
    assert rows(rep, "roles_selected_at_init") == {}  # dev 3 < 5
    assert rep["period"] == {"start": "2026-11-02", "end": "2026-11-06"}
    # every cell of every domain is either published or counted as suppressed
    for name, table in rep["tables"].items():
        domain = math.prod(
            len(
                LISTS[
                    {
                        "role": "roles",
                        "from_role": "roles",
                        "to_role": "roles",
                        "command": "commands",
                    }.get(d, "agents")
                ]
            )
            for d in TABLES[name]
        )
        assert len(table["rows"]) + table["suppressed_cells"] == domain
    assert rep["privacy"]["suppressed_cells"] == sum(
        t["suppressed_cells"] for t in rep["tables"].values()
    )
    k1 = report(known_events(), k=1)
    assert rows(k1, "roles_selected_at_init") == {("dev",): 3, ("arch",): 1}
    assert rows(k1, "agent_invocations")[("dev", "@secure-by-design-engineer")] == 2


def test_no_hashes_ids_free_values_or_times() -> None:
    text = json.dumps(report(known_events(), k=1))
    assert "hmac" not in text and "evt_" not in text and "session" not in text
    assert "<" not in text and "\\u" not in text and "AAAA" not in text and "evil" not in text
    assert not re.search(r"\d{4}-\d{2}-\d{2}T", text)
    assert "total" not in text  # no totals: a suppressed cell cannot be recovered from one


def test_each_event_counts_in_at_most_one_cell() -> None:
    events = known_events()
    rep = report(events, k=1)
    cells = sum(r[-1] for t in rep["tables"].values() for r in t["rows"])
    counted = [
        e
        for e in events
        if e["event_type"]
        in (
            "role.selected",
            "command.started",
            "command.completed",
            "command.failed",
            "agent.invoked",
            "handoff.offered",
            "handoff.clicked",
        )
    ]
    # hostile/hashed events are dropped; none is counted twice
    assert cells == 3 + 1 + 10 + 8 + 1 + 6 + 2 + 8 + 6
    assert cells <= len(counted)


def test_noise_is_applied_to_every_cell_and_stays_valid() -> None:
    rng = random.Random(7)
    rep = report(known_events(), k=5, epsilon=0.2, rng=rng)
    assert validate_share_report(rep) == []
    assert rep["privacy"]["mechanism"] == "two-sided-geometric"
    assert rep["privacy"]["epsilon"] == 0.2
    again = report(known_events(), k=5, epsilon=0.2, rng=random.Random(7))
    assert again == rep  # injectable RNG: reproducible in tests
    exact = report(known_events(), k=5)
    assert rep["tables"] != exact["tables"]
    with pytest.raises(ValueError, match="epsilon"):
        report(known_events(), epsilon=0.0)
    with pytest.raises(ValueError, match="k"):
        report(known_events(), k=0)


@pytest.mark.parametrize("epsilon", [0.5, 1.0, 2.0])
def test_two_sided_geometric_distribution(epsilon: float) -> None:
    rng = random.Random(20261127)
    n = 200_000
    draws = [noise.two_sided_geometric(epsilon, 1, rng) for _ in range(n)]
    a = math.exp(-epsilon)
    expected_var = 2 * a / (1 - a) ** 2
    assert expected_var == pytest.approx(noise.variance(epsilon))
    mean = sum(draws) / n
    var = sum((x - mean) ** 2 for x in draws) / (n - 1)
    assert abs(mean) < 5 * math.sqrt(expected_var / n)
    assert var == pytest.approx(expected_var, rel=0.03)
    freq = Counter(draws)
    for z in (0, 1, -1, 2):  # P(Z = z) = (1 - a) / (1 + a) * a^|z|
        p = (1 - a) / (1 + a) * a ** abs(z)
        assert freq[z] / n == pytest.approx(p, abs=5 * math.sqrt(p * (1 - p) / n))
    assert abs(freq[3] - freq[-3]) < 5 * math.sqrt(freq[3] + freq[-3] + 1)  # symmetric


def test_real_runs_use_the_system_csprng(monkeypatch: pytest.MonkeyPatch) -> None:
    used: list[str] = []

    class Spy(random.SystemRandom):
        def random(self) -> float:
            used.append("x")
            return super().random()

    monkeypatch.setattr(noise.random, "SystemRandom", Spy)
    noise.two_sided_geometric(1.0)
    assert len(used) == 2


def _mutate(path: str, value: Any) -> dict[str, Any]:
    rep = copy.deepcopy(report(known_events()))
    *parents, last = path.split(".")
    node: Any = rep
    for p in parents:
        node = node[int(p)] if isinstance(node, list) else node[p]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value
    return rep


@pytest.mark.parametrize(
    ("path", "value", "needle"),
    [
        ("share_schema_version", "2", "share_schema_version"),
        ("session_ids", ["hmac:0123456789abcdef"], "unexpected key"),
        ("total_events", 51, "unexpected key"),
        ("period.start", "2026-11-02T10:00:00Z", "period.start"),
        ("generated_on", "2026-11-27T10:00:00.000Z", "generated_on"),
        ("catalog.roles", ["dev", "hmac:0123456789abcdef"], "catalog.roles"),
        ("tables.commands_started.rows.0.0", "hmac:0123456789abcdef", "not a value"),
        ("tables.commands_started.rows.0.2", 3, "at least k"),
        ("tables.commands_started.rows.0.2", 5.5, "at least k"),
        ("tables.commands_started.rows.0", ["dev", "/flow:implement", 10, "x"], "must be"),
        ("tables.commands_started.suppressed_cells", 0, "domain"),
        ("tables.commands_started.events", [], "unexpected key"),
        ("privacy.epsilon", -1, "epsilon"),
        ("privacy.k", 0, "privacy.k"),
        ("privacy.suppressed_cells", 1, "sum"),
        ("privacy.unit", "person", "unit"),
    ],
)
def test_validator_rejects_anything_beyond_aggregate_counts(
    path: str, value: Any, needle: str
) -> None:
    errors = validate_share_report(_mutate(path, value))
    assert errors and any(needle in e for e in errors), errors


def test_validator_rejects_non_objects_and_missing_tables() -> None:
    assert validate_share_report([]) == ["a share report must be a JSON object"]
    rep = report(known_events())
    del rep["tables"]["handoffs_clicked"]
    assert any("missing key 'handoffs_clicked'" in e for e in validate_share_report(rep))
