"""The weekly share report (format 2): ISO weeks, bounds, calibrated and consistent noise,
and the attacks the design must hold against (period, once per week, averaging, budget)."""

from __future__ import annotations

import json
import math
import os
from collections import Counter
from datetime import UTC, date, datetime
from fractions import Fraction
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowspec_telemetry.core import ledger
from flowspec_telemetry.core.events import dumps_line
from flowspec_telemetry.core.privacy import load_or_create_salt
from flowspec_telemetry.core.roles import DEFAULT_CATALOG
from flowspec_telemetry.report import sharing, weekly
from flowspec_telemetry.report._dlaplace import variance
from flowspec_telemetry.report.share import catalog_lists

LISTS = catalog_lists(DEFAULT_CATALOG)
SALT = b"s" * 32
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def empty() -> dict[str, Counter[tuple[str, ...]]]:
    return {t: Counter() for t in weekly.WEEKLY_TABLES}


def test_iso_weeks() -> None:
    assert weekly.parse_week("2026-W45") == (date(2026, 11, 2), date(2026, 11, 8))
    assert weekly.parse_week("2020-W53") == (date(2020, 12, 28), date(2021, 1, 3))
    assert weekly.week_of(date(2021, 1, 3)) == "2020-W53"
    assert weekly.week_ordinal("2027-W01") - weekly.week_ordinal("2026-W53") == 1
    for bad in ("2026-W54", "2025-W53", "2026-45", "2026-W4", "", "2026-W00"):
        with pytest.raises(weekly.WeekError):
            weekly.parse_week(bad)
    assert weekly.last_finished_week(NOW) == "2026-W48"


def test_bounds_cap_each_cell_and_the_number_of_cells() -> None:
    bound = weekly.BOUNDS["commands_started"]
    counts = {("dev", f"/c{i}"): n for i, n in enumerate((50, 1, 7, 3, 2))}
    bounded = weekly.bound_cells(counts, bound)
    assert len(bounded) == bound.max_cells == 3
    assert all(v <= bound.max_per_cell for v in bounded.values())
    assert set(bounded) == {("dev", "/c0"), ("dev", "/c2"), ("dev", "/c3")}  # the largest kept
    assert bound.sensitivity == sum(bounded.values())  # the worst case is reached, not exceeded


def test_every_cell_is_present_noised_and_the_period_is_the_week() -> None:
    report = weekly.build_weekly_report(empty(), LISTS, week="2026-W45", salt=SALT)
    assert weekly.validate_weekly_report(report) == []
    assert report["period"] == {"iso_week": "2026-W45", "start": "2026-11-02", "end": "2026-11-08"}
    for name, table in report["tables"].items():
        assert len(table["rows"]) == len(list(weekly.domain(name, LISTS)))
    counts = [row[-1] for t in report["tables"].values() for row in t["rows"]]
    assert any(c < 0 for c in counts) and any(c > 0 for c in counts)  # noise of both signs kept
    assert set(report) == {
        "share_schema_version",
        "generator",
        "report_id",
        "contributor",
        "period",
        "privacy",
        "catalog",
        "tables",
    }
    text = json.dumps(report)
    assert "T" not in json.dumps(report["period"])  # no time finer than the week
    assert "generated_on" not in text


def test_the_printed_epsilon_is_what_the_noise_gives_a_person() -> None:
    """For each table, one person changes the bounded table by at most its sensitivity, and the
    discrete Laplace of the declared scale bounds the likelihood ratio by exp(table epsilon)."""
    report = weekly.build_weekly_report(empty(), LISTS, week="2026-W45", salt=SALT)
    total = 0.0
    for name, table in report["tables"].items():
        bound = weekly.BOUNDS[name]
        scale = table["scale"]
        assert math.isclose(scale, bound.sensitivity / table["epsilon"])
        # the pmf ratio of outputs z and z + sensitivity is exp(sensitivity / scale) = exp(eps_t)
        a = math.exp(-1 / scale)
        ratio = a**-bound.sensitivity
        assert math.isclose(math.log(ratio), table["epsilon"], rel_tol=1e-9)
        total += table["epsilon"]
    assert math.isclose(total, report["privacy"]["epsilon"])  # basic composition over tables


def test_noise_is_consistent_for_a_week_and_independent_across_weeks_and_people() -> None:
    one = weekly.build_weekly_report(empty(), LISTS, week="2026-W45", salt=SALT)
    again = weekly.build_weekly_report(empty(), LISTS, week="2026-W45", salt=SALT)
    assert one == again  # re-making the report gives the same numbers and the same id
    other_week = weekly.build_weekly_report(empty(), LISTS, week="2026-W46", salt=SALT)
    other_person = weekly.build_weekly_report(empty(), LISTS, week="2026-W45", salt=b"t" * 32)
    assert len({one["report_id"], other_week["report_id"], other_person["report_id"]}) == 3
    assert one["contributor"] != other_week["contributor"]  # no link from week to week
    a = [r[-1] for r in one["tables"]["commands_started"]["rows"]]
    b = [r[-1] for r in other_week["tables"]["commands_started"]["rows"]]
    mean_a, mean_b = sum(a) / len(a), sum(b) / len(b)
    cov = sum((x - mean_a) * (y - mean_b) for x, y in zip(a, b, strict=True)) / len(a)
    corr = cov / math.sqrt(variance(one["tables"]["commands_started"]["scale"]) ** 2)
    assert abs(corr) < 0.45  # 54 cells: independent noise, so no cancelling by differencing


def test_an_attacker_averaging_remade_reports_learns_nothing_more() -> None:
    """Fresh noise per re-make would average away; consistent noise gives the same numbers."""
    cells = empty()
    cells["commands_started"][("dev", "/flow:implement")] = 2
    copies = [
        weekly.build_weekly_report(cells, LISTS, week="2026-W45", salt=SALT) for _ in range(20)
    ]
    values = {c["tables"]["commands_started"]["rows"][0][-1] for c in copies}
    assert len(values) == 1


def test_the_attacker_cannot_difference_two_weeks_to_one_count() -> None:
    """Two reports of one person for weeks with known totals: the difference of a cell is the
    difference of the counts plus two independent noises, never the count itself."""
    c1, c2 = empty(), empty()
    c1["roles_selected_at_init"][("dev",)] = 1
    w1 = weekly.build_weekly_report(c1, LISTS, week="2026-W45", salt=SALT)
    w2 = weekly.build_weekly_report(c2, LISTS, week="2026-W46", salt=SALT)
    diffs = [
        r1[-1] - r2[-1] - (1 if r1[0] == "dev" else 0)
        for r1, r2 in zip(
            w1["tables"]["roles_selected_at_init"]["rows"],
            w2["tables"]["roles_selected_at_init"]["rows"],
            strict=True,
        )
    ]
    assert any(d != 0 for d in diffs)


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        (("privacy", "epsilon"), 11, "between 0.1 and 10"),
        (("privacy", "epsilon"), 0.0001, "three decimals"),
        (("privacy", "unit"), "event", "unit must be 'person-week'"),
        (("contributor",), "A" * 32, "contributor must be 32 lowercase hex"),
        (("period", "end"), "2026-11-07", "Monday and Sunday"),
        (("tables", "handoffs_clicked", "dimensions"), ["from_agent"], "dimensions must be []"),
    ],
)
def test_validation_refuses_forgeries(field: tuple[str, ...], value: object, reason: str) -> None:
    report = weekly.build_weekly_report(empty(), LISTS, week="2026-W45", salt=SALT)
    target = report
    for key in field[:-1]:
        target = target[key]
    target[field[-1]] = value
    errors = weekly.validate_weekly_report(report)
    assert errors and any(reason in e for e in errors), errors


def test_epsilon_values() -> None:
    assert weekly.epsilon_value(0.5) == Fraction(1, 2)
    assert weekly.epsilon_value("1.25") == Fraction(5, 4)
    for bad in (0.05, 10.5, 0.0005, "x", True, float("nan")):
        with pytest.raises(ValueError, match="epsilon"):
            weekly.epsilon_value(bad)  # type: ignore[arg-type]


# ----------------------------------------------------------------- sharing


def _project(tmp_path: Path) -> Path:
    root = tmp_path / "p"
    (root / ".flowspec").mkdir(parents=True, mode=0o700)
    load_or_create_salt(root / ".flowspec")
    return root


def _event(ts: str, etype: str = "command.started", **extra: object) -> bytes:
    return dumps_line(
        {
            "schema_version": "1.0",
            "event_id": f"evt_{ts}",
            "timestamp": ts,
            "event_type": etype,
            "role": "dev",
            "command": "/flow:implement",
            **extra,
        }
    )


def test_only_events_of_the_week_after_opt_in_count(tmp_path: Path) -> None:
    root = _project(tmp_path)
    lines = [
        _event("2026-11-01T23:59:59.999Z"),  # the Sunday before: not this week
        _event("2026-11-02T08:00:00.000Z"),  # before opting in
        _event("2026-11-03T10:00:00.500Z"),  # after (the same second as the opt-in, later ms)
        _event("2026-11-08T23:59:59.999Z"),  # last millisecond of the week
        _event("2026-11-09T00:00:00.000Z"),  # next week
        _event("2026-11-04T10:00:00.000Z", legacy_type="role.selected"),  # a run with no end
    ]
    (root / ".flowspec" / "telemetry.jsonl").write_bytes(b"".join(lines))
    prepared = sharing.prepare_week(
        root, week="2026-W45", share_since="2026-11-03T10:00:00Z", now=NOW
    )
    reference = empty()
    reference["commands_started"][("dev", "/flow:implement")] = 2
    salt = (root / ".flowspec" / "telemetry.salt").read_bytes()
    expected = weekly.build_weekly_report(reference, LISTS, week="2026-W45", salt=salt)
    assert prepared.report["tables"] == expected["tables"]
    assert not prepared.reprint


def test_spent_in_any_52_weeks_counts_reports_made_out_of_order() -> None:
    entries = [
        {"share_schema_version": "2", "iso_week": "2026-W10", "epsilon": 4.0},
        {"share_schema_version": "2", "iso_week": "2027-W05", "epsilon": 3.0},  # 47 weeks on
        {"share_schema_version": "1", "epsilon": 9.0},  # older format: per event, not counted
    ]
    assert sharing.spent_in_window(entries, "2026-W30") == 7  # a window holds both
    assert sharing.spent_in_window(entries, "2025-W05") == 0
    assert sharing.spent_in_window(entries, "2025-W20") == 4  # 2025-W20..2026-W19 holds W10
    assert sharing.spent_in_window(entries, "2027-W40") == 3


def test_the_budget_refuses_and_a_shared_week_costs_nothing_again(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    root = _project(tmp_path)
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_EPSILON_BUDGET", "8")
    since = "2026-01-01T00:00:00Z"
    for week in ("2026-W40", "2026-W41"):
        prepared = sharing.prepare_week(root, week=week, share_since=since, now=NOW)
        sharing.record_week(root, prepared, file_name=f"{week}.json")
    with pytest.raises(sharing.ShareRefusedError, match="over the yearly budget 8"):
        sharing.prepare_week(root, week="2026-W42", share_since=since, now=NOW)
    again = sharing.prepare_week(
        root, week="2026-W40", share_since=None, now=NOW, epsilon=Fraction(1)
    )
    assert again.reprint and again.report["privacy"]["epsilon"] == 4.0
    status = sharing.budget_status(root, now=NOW)
    assert status["epsilon_last_52_weeks"] == 8.0 and status["remaining"] == 0.0
    copy = root / ".flowspec" / "telemetry-shared" / "2026-W40.json"
    assert oct(copy.stat().st_mode & 0o777) == "0o600"
    copy.write_bytes(copy.read_bytes().replace(b'"2"', b'"2" '))  # tampered
    with pytest.raises(sharing.ShareRefusedError, match="no longer matches"):
        sharing.prepare_week(root, week="2026-W40", share_since=since, now=NOW)
    assert [e["iso_week"] for e in ledger.read_ledger(root)] == ["2026-W40", "2026-W41"]


def test_a_bad_budget_setting_is_usage(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOWSPEC_TELEMETRY_EPSILON_BUDGET", "lots")
    with pytest.raises(sharing.ShareRefusedError) as info:
        sharing.prepare_week(
            _project(tmp_path), week="2026-W40", share_since="2026-01-01T00:00:00Z", now=NOW
        )
    assert info.value.usage
    assert os.environ["FLOWSPEC_TELEMETRY_EPSILON_BUDGET"] == "lots"


def test_clear_removes_the_ledger_and_the_kept_copies(tmp_path: Path) -> None:
    from flowspec_telemetry.history.erase import clear

    root = _project(tmp_path)
    prepared = sharing.prepare_week(
        root, week="2026-W40", share_since="2026-01-01T00:00:00Z", now=NOW
    )
    sharing.record_week(root, prepared, file_name="a.json")
    assert (root / ".flowspec" / "telemetry-shared" / "2026-W40.json").exists()
    clear(root)
    assert not (root / ".flowspec" / "telemetry-shared").exists()
    assert ledger.read_ledger(root) == []


_JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4)
    ),
    max_leaves=20,
)
_VALID = weekly.build_weekly_report(empty(), LISTS, week="2026-W45", salt=SALT)


@settings(max_examples=200, deadline=None)
@given(_JSON)
def test_validation_never_raises_on_any_json(value: object) -> None:
    assert isinstance(weekly.validate_weekly_report(value), list)
    assert weekly.validate_weekly_report({**_VALID, "privacy": value}) != []


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(sorted(weekly.WEEKLY_TABLES)),
    st.integers(min_value=0, max_value=10_000),
    st.one_of(st.integers(), st.floats(), st.text(max_size=5), st.none(), st.booleans()),
)
def test_a_changed_count_is_accepted_only_within_its_bound(
    table: str, index: int, value: object
) -> None:
    report = json.loads(json.dumps(_VALID))
    rows = report["tables"][table]["rows"]
    rows[index % len(rows)][-1] = value
    errors = weekly.validate_weekly_report(report)
    scale = report["tables"][table]["scale"]
    tail = weekly.tail_bound(table, scale)
    ok = (
        isinstance(value, int)
        and not isinstance(value, bool)
        and -tail <= value <= weekly.BOUNDS[table].max_per_cell + tail
    )
    assert (errors == []) == ok, (value, errors)
