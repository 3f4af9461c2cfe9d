"""Weekly share reports at org level: 200 contributors over 8 weeks with known truths.

The simulation gives every person a role, a role selection at init in the
first week, and a fixed weekly routine within the documented bounds (so the
bounded truth is the raw truth). Each person's reports are made by the real
builder with the person's own secret salt, loaded by the real ingest into
DuckDB and into a real ClickHouse, and answered by the real org code.
"""

from __future__ import annotations

import copy
import json
import os
import random
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from flowspec_telemetry.org.backends import Store, open_store, parse_target
from flowspec_telemetry.org.ingest import Accepted, check_report, ingest
from flowspec_telemetry.org.weekly import weekly_insights
from flowspec_telemetry.report import weekly

from ..conftest import run_cli
from .conftest import LISTS, make_report

WEEKS = [f"2026-W{w:02d}" for w in range(36, 44)]
PEOPLE = 200


def role_of(p: int) -> str:
    return "dev" if p < 110 else "arch" if p < 140 else ("sec", "qa", "ops")[p % 3]


def person_week(p: int, week_index: int) -> dict[str, Counter[tuple[str, ...]]]:
    """One person's counted cells for one week (within every bound)."""
    role = role_of(p)
    cells: dict[str, Counter[tuple[str, ...]]] = {t: Counter() for t in weekly.WEEKLY_TABLES}
    if week_index == 0:
        cells["roles_selected_at_init"][(role,)] = 1
    if role == "dev":
        cells["commands_started"].update(
            {(role, "/flow:implement"): 3, (role, "/flow:validate"): 2}
        )
        cells["commands_completed"].update(
            {(role, "/flow:implement"): 2, (role, "/flow:validate"): 2}
        )
        cells["agent_invocations"][(role, "@backend-engineer")] = 3
        if p % 3 == 0:
            cells["agent_invocations"][(role, "@secure-by-design-engineer")] = 1
    elif role == "arch":
        cells["commands_started"].update({(role, "/flow:plan"): 3, (role, "/flow:specify"): 1})
        cells["commands_completed"][(role, "/flow:plan")] = 3
        cells["agent_invocations"][(role, "@software-architect")] = 2
    else:
        cells["commands_started"][(role, "/flow:validate")] = 2
        cells["commands_completed"][(role, "/flow:validate")] = 1
    cells["handoffs_offered"][()] = 4
    cells["handoffs_clicked"][()] = 2 if p % 2 else 1
    return cells


def truth() -> dict[str, Counter[tuple[str, ...]]]:
    total: dict[str, Counter[tuple[str, ...]]] = {t: Counter() for t in weekly.WEEKLY_TABLES}
    for p in range(PEOPLE):
        for w in range(len(WEEKS)):
            for table, cells in person_week(p, w).items():
                bounded = weekly.bound_cells(cells, weekly.BOUNDS[table])
                assert bounded == {k: v for k, v in cells.items() if v}, (
                    "the routine fits the bounds"
                )
                total[table].update(bounded)
    return total


@pytest.fixture(scope="module")
def reports() -> list[dict[str, Any]]:
    rng = random.Random(2026)  # noqa: S311 - reproducible salts for the simulated people
    out = []
    for p in range(PEOPLE):
        salt = rng.randbytes(32)
        for w, week in enumerate(WEEKS):
            out.append(weekly.build_weekly_report(person_week(p, w), LISTS, week=week, salt=salt))
    return out


def load(store: Store, reports: list[dict[str, Any]], prefix: str = "r") -> list[Any]:
    items = [check_report(f"{prefix}{i}", r) for i, r in enumerate(reports)]
    assert all(isinstance(i, Accepted) for i in items), [
        i for i in items if not isinstance(i, Accepted)
    ][:1]
    result = ingest(store, items)  # type: ignore[arg-type]
    return result.rejected


@pytest.fixture(scope="module")
def duck_answers(
    reports: list[dict[str, Any]], tmp_path_factory: pytest.TempPathFactory
) -> dict[str, Any]:
    store = open_store(
        parse_target(str(tmp_path_factory.mktemp("weekly") / "org.duckdb")), read_only=False
    )
    assert load(store, reports) == []
    data = weekly_insights(store, today="2026-11-01")
    store.close()
    return data


def _cells(data: dict[str, Any]) -> Iterator[tuple[str, tuple[str, ...], int, float, float]]:
    for name, table in data["tables"].items():
        for a, b, est, low, high in table.get("estimates", []):
            dims = weekly.WEEKLY_TABLES[name]
            key = tuple(x for x in (a, b)[: len(dims)])
            yield name, key, est, low, high


def test_every_table_is_shown_with_200_contributors(duck_answers: dict[str, Any]) -> None:
    assert duck_answers["reports"] == PEOPLE * len(WEEKS)
    assert duck_answers["weeks"] == WEEKS
    for table in duck_answers["tables"].values():
        assert table["status"] == "shown" and table["contributors"] == PEOPLE
    assert duck_answers["held_back"] == {"cells": 0, "tables": {}}


def test_org_answers_match_the_truth_within_the_stated_intervals(
    duck_answers: dict[str, Any],
) -> None:
    real = truth()
    inside = total = 0
    for name, key, _est, low, high in _cells(duck_answers):
        total += 1
        inside += low <= real[name].get(key, 0) <= high
    assert total == sum(len(list(weekly.domain(t, LISTS))) for t in weekly.WEEKLY_TABLES)
    # 95 % intervals: about 5 % of cells may miss, many more would mean a wrong interval
    assert inside / total >= 0.9, (inside, total)
    # and the intervals are not uselessly wide: the init table's is within +-50 for 1,600 reports
    init = [c for c in _cells(duck_answers) if c[0] == "roles_selected_at_init"]
    assert all(high - low < 100 for *_, low, high in init)


def test_question_1_is_answered(duck_answers: dict[str, Any]) -> None:
    roles = duck_answers["roles"]
    assert roles["leader"] == "dev" and roles["clearly_ahead"] is True
    assert roles["answer"].startswith("dev is selected most at init: about ")
    assert "cannot be told apart" not in roles["answer"]
    dev = next(r for r in roles["at_init"] if r["role"] == "dev")
    assert dev["low"] <= 110 <= dev["high"]


def test_sums_are_unbiased_for_an_org_that_ran_no_command(tmp_path: Path) -> None:
    """100 people whose only event was one role selection: about zero commands, not hundreds."""
    rng = random.Random(5)  # noqa: S311
    reps = []
    for _ in range(100):
        cells = {t: Counter() for t in weekly.WEEKLY_TABLES}
        cells["roles_selected_at_init"][("dev",)] = 1
        reps.append(
            weekly.build_weekly_report(cells, LISTS, week="2026-W40", salt=rng.randbytes(32))
        )
    store = open_store(parse_target(str(tmp_path / "o.duckdb")), read_only=False)
    assert load(store, reps) == []
    data = weekly_insights(store)
    started = data["tables"]["commands_started"]
    assert started["status"] == "shown"
    total = sum(e for _, _, e, _, _ in started["estimates"])
    sd_total = started["noise_sd"] * len(started["estimates"]) ** 0.5
    assert abs(total) < 3 * sd_total  # centred on zero: no positive-only noise survives
    assert data["commands"]["top"] == [] or all(
        not t["cannot_tell_from_zero"] for t in data["commands"]["top"]
    )
    assert data["roles"]["leader"] == "dev"
    store.close()


def test_identical_reports_of_two_contributors_both_count(tmp_path: Path) -> None:
    cells = {t: Counter() for t in weekly.WEEKLY_TABLES}
    a = weekly.build_weekly_report(cells, LISTS, week="2026-W40", salt=b"a" * 32)
    b = copy.deepcopy(a)
    b["report_id"], b["contributor"] = "1" * 32, "2" * 32  # same counts, another person
    store = open_store(parse_target(str(tmp_path / "o.duckdb")), read_only=False)
    assert load(store, [a, b]) == []
    assert int(store.query("SELECT COUNT(*) FROM org_weekly_reports")[0][0]) == 2
    # re-ingest of one report: refused by id; another report of that week by one contributor too
    again = ingest(store, [check_report("again", a)])  # type: ignore[list-item]
    assert [r.reason for r in again.rejected] == [
        f"duplicate: report id {a['report_id'][:12]}… is already ingested"
    ]
    other = copy.deepcopy(a)
    other["report_id"] = "3" * 32
    second = ingest(store, [check_report("second", other)])  # type: ignore[list-item]
    assert "a second report for 2026-W40 from the same contributor" in second.rejected[0].reason
    assert int(store.query("SELECT COUNT(*) FROM org_weekly_reports")[0][0]) == 2
    store.close()


def test_fewer_than_k_contributors_are_withheld_and_difference_checks_hold_back(
    tmp_path: Path,
) -> None:
    rng = random.Random(9)  # noqa: S311
    salts = [rng.randbytes(32) for _ in range(12)]
    cells = person_week(0, 0)
    store = open_store(parse_target(str(tmp_path / "o.duckdb")), read_only=False)
    load(
        store,
        [weekly.build_weekly_report(cells, LISTS, week="2026-W40", salt=s) for s in salts[:3]],
        "a",
    )
    few = weekly_insights(store)
    assert few["tables"]["commands_started"]["status"] == "withheld"
    assert (
        few["roles"]["answer"]
        == "Withheld: fewer than 5 contributors (3) in roles_selected_at_init."
    )
    assert "nothing recorded" not in json.dumps(few).lower()
    load(
        store,
        [weekly.build_weekly_report(cells, LISTS, week="2026-W40", salt=s) for s in salts[3:10]],
        "b",
    )
    shown = weekly_insights(store, today="2026-11-02")  # 10 contributors: published
    assert shown["tables"]["commands_started"]["status"] == "shown"
    # one more person: next to the published figure it would isolate them
    load(store, [weekly.build_weekly_report(cells, LISTS, week="2026-W40", salt=salts[10])], "c")
    held = weekly_insights(store)
    table = held["tables"]["commands_started"]
    assert table["status"] == "withheld" and "isolate 1 contributor" in table["why"]
    assert held["held_back"]["cells"] == sum(
        len(list(weekly.domain(t, LISTS))) for t in weekly.WEEKLY_TABLES
    )
    assert "2026-11-02" in table["why"]
    store.close()


def test_duckdb_and_clickhouse_give_the_same_answers(
    reports: list[dict[str, Any]], duck_answers: dict[str, Any], clickhouse_url: str
) -> None:
    store = open_store(parse_target(clickhouse_url), read_only=False)
    assert load(store, reports) == []
    data = weekly_insights(store, today="2026-11-01")
    store.close()
    assert data == duck_answers


# ------------------------------------------------------------------ the CLI


def _good(tmp_path: Path, name: str = "good.json", salt: bytes = b"g" * 32) -> Path:
    path = tmp_path / name
    path.write_text(
        json.dumps(weekly.build_weekly_report(person_week(1, 0), LISTS, week="2026-W40", salt=salt))
    )
    return path


def _forge(tmp_path: Path, name: str, change: Any) -> Path:
    data = json.loads(_good(tmp_path, "base.json", salt=name.encode() * 4).read_text())
    change(data)
    path = tmp_path / name
    path.write_text(json.dumps(data))
    return path


def _set(path: list[Any], value: Any) -> Any:
    def apply(data: Any) -> None:
        target = data
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value

    return apply


FORGERIES: dict[str, tuple[Any, str]] = {
    "negative": (
        _set(["tables", "commands_started", "rows", 0, 2], -(10**6)),
        "the count must be an integer from",
    ),
    "huge": (
        _set(["tables", "handoffs_offered", "rows", 0, 0], 10**12),
        "the count must be an integer from",
    ),
    "float count": (
        _set(["tables", "handoffs_offered", "rows", 0, 0], 1.5),
        "the count must be an integer",
    ),
    "epsilon vs noise": (_set(["privacy", "epsilon"], 2.0), "does not match the report's epsilon"),
    "scale vs epsilon": (
        _set(["tables", "roles_selected_at_init", "scale"], 0.01),
        "the noise was not calibrated",
    ),
    "k": (_set(["privacy", "min_contributors"], 1), "min_contributors (k)"),
    "bound": (_set(["tables", "commands_started", "max_per_cell"], 100), "the bound must be"),
    "unknown cell": (
        _set(["tables", "roles_selected_at_init", "rows", 0, 0], "boss"),
        "not the expected cell",
    ),
    "missing cell": (
        lambda d: d["tables"]["role_changes"]["rows"].pop(),
        "every cell of the catalog domain",
    ),
    "not an ISO week": (_set(["period", "iso_week"], "2026-11-02"), "not an ISO week"),
    "week 53 of a 52-week year": (_set(["period", "iso_week"], "2025-W53"), "has no week 53"),
    "start not Monday": (_set(["period", "start"], "2026-09-29"), "Monday and Sunday"),
    "extra key": (_set(["project_id"], "hmac:3f1c0a9b7d2e4f60"), "unexpected key"),
    "bad id": (_set(["report_id"], "not-hex"), "report_id must be 32 lowercase hex"),
}


@pytest.mark.parametrize("case", sorted(FORGERIES))
def test_forged_reports_are_refused_with_one_line_and_nothing_loaded(
    tmp_path: Path, case: str
) -> None:
    change, reason = FORGERIES[case]
    db = str(tmp_path / "org.duckdb")
    good = _good(tmp_path)
    forged = _forge(tmp_path, f"forged-{case.replace(' ', '-')}.json", change)
    result = run_cli("org", "ingest", str(forged), str(good), "--db", db)
    assert result.returncode == 2, result.stderr
    assert result.stderr.count("\n") == 1 and reason in result.stderr, result.stderr
    assert "Loaded 1 share report" in result.stdout
    store = open_store(parse_target(db), read_only=True)
    ids = [r[0] for r in store.query("SELECT report_id FROM org_weekly_reports")]
    assert ids == [json.loads(good.read_text())["report_id"]]  # only the good file's rows
    store.close()


def test_reused_id_and_older_format(tmp_path: Path) -> None:
    db = str(tmp_path / "org.duckdb")
    good = _good(tmp_path)
    copy_path = tmp_path / "copy.json"
    copy_path.write_text(good.read_text())
    legacy = tmp_path / "legacy.json"
    legacy.write_text(json.dumps(make_report(3)))
    result = run_cli("org", "ingest", str(good), str(copy_path), str(legacy), "--db", db)
    assert result.returncode == 2
    assert "duplicate: the same report id as" in result.stderr and result.stderr.count("\n") == 1
    assert "Loaded 2 share reports" in result.stdout
    answer = run_cli("org", "insights", "--db", db, "--json")
    assert answer.returncode == 0, answer.stderr
    data = json.loads(answer.stdout)
    assert data["share_format"] == "2"
    assert data["legacy_reports"]["count"] == 1 and data["legacy_reports"]["counted"] is False
    text = run_cli("org", "insights", "--db", db)
    assert "fewer than 5 contributors" in text.stdout
    assert (
        "1 report of the\n" not in text.stdout
        and "Not counted: 1 report of the older share format" in text.stdout
    )
    assert os.path.exists(db)


def test_org_insights_and_report_of_weekly_reports_from_the_cli(tmp_path: Path) -> None:
    rng = random.Random(11)  # noqa: S311
    paths = []
    for p in range(8):
        salt = rng.randbytes(32)
        for w, week in enumerate(WEEKS[:2]):
            path = tmp_path / f"p{p}-{week}.json"
            path.write_text(
                json.dumps(
                    weekly.build_weekly_report(person_week(p, w), LISTS, week=week, salt=salt)
                )
            )
            paths.append(str(path))
    db = str(tmp_path / "org.duckdb")
    loaded = run_cli("org", "ingest", *paths, "--db", db)
    assert loaded.returncode == 0, loaded.stderr
    text = run_cli("org", "insights", "--db", db, "--weeks", f"{WEEKS[0]}..{WEEKS[1]}")
    assert text.returncode == 0, text.stderr
    assert "Based on 16 weekly share reports (2026-W36 to 2026-W37)" in text.stdout
    assert "1. Roles: " in text.stdout and "95 % interval" in text.stdout
    one = run_cli("org", "insights", "--db", db, "--weeks", WEEKS[1], "--json")
    assert json.loads(one.stdout)["weeks"] == [WEEKS[1]]
    bad = run_cli("org", "insights", "--db", db, "--weeks", "2026-13")
    assert bad.returncode == 2 and "not an ISO week" in bad.stderr
    page = tmp_path / "org.html"
    html = run_cli("org", "report", "--html", str(page), "--db", db)
    assert html.returncode == 0, html.stderr
    body = page.read_text()
    assert "<script" not in body and "Content-Security-Policy" in body
    assert "Roles selected at init" in body and "95 % interval" in body
    assert "Week by week" in body and "<td>2026-W36</td><td>8</td>" in body
