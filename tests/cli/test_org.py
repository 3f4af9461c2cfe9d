"""`org ingest`, `org insights`, `org report` as a user runs them (the installed console script).

Every bad input is one line on stderr per rejected file, a non-zero exit code,
and an unchanged store (row counts compared before and after).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from ..conftest import run_cli
from ..org.conftest import clickhouse, clickhouse_url, make_report, write_reports

__all__ = ["clickhouse", "clickhouse_url"]  # fixtures shared with tests/org (one server)

TABLES = ("org_loads", "org_reports", "org_cells", "org_catalog")


def row_counts(db: Path) -> dict[str, int]:
    import duckdb

    if not db.exists():
        return {}
    con = duckdb.connect(str(db), read_only=True)
    try:
        return {t: con.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0] for t in TABLES}  # type: ignore[index]
    finally:
        con.close()


@pytest.fixture
def loaded(tmp_path: Path) -> tuple[Path, list[Path]]:
    """A DuckDB store holding three share reports."""
    reports = write_reports(tmp_path, range(3))
    db = tmp_path / "org.duckdb"
    result = run_cli("org", "ingest", *map(str, reports), "--db", str(db))
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
    assert "Loaded 3 share reports" in result.stdout
    assert db.stat().st_mode & 0o777 == 0o600
    return db, reports


def test_ingest_insights_and_report(loaded: tuple[Path, list[Path]], tmp_path: Path) -> None:
    db, _ = loaded
    assert row_counts(db)["org_reports"] == 3
    data = json.loads(run_cli("org", "insights", "--db", str(db), "--json").stdout)
    assert data["insights_version"] == "1"
    assert data["org"]["reports"] == 3
    assert data["org"]["k"] == 5
    assert data["commands"]["top"]
    text = run_cli("org", "insights", "--db", str(db))
    assert text.returncode == 0
    assert "Based on 3 share reports" in text.stdout
    assert "5. Do started commands complete?" in text.stdout
    assert "Not available at org level" in text.stdout
    html = tmp_path / "org.html"
    result = run_cli("org", "report", "--html", str(html), "--db", str(db))
    assert result.returncode == 0, result.stderr
    page = html.read_text()
    assert html.stat().st_mode & 0o777 == 0o600
    assert "<script" not in page.lower()
    assert "default-src &#x27;none&#x27;" in page or "default-src 'none'" in page
    assert "Not available at org level" in page
    assert "session ids" in page and "durations" in page
    assert "3</strong> share reports" in page
    again = run_cli("org", "report", "--html", str(html), "--db", str(db))
    assert again.returncode == 2 and "--force" in again.stderr


def test_mixed_batch_loads_the_good_rejects_the_bad(tmp_path: Path) -> None:
    good = write_reports(tmp_path, range(2))
    bad = tmp_path / "bad.json"
    bad.write_text("{nope")
    db = tmp_path / "org.duckdb"
    result = run_cli("org", "ingest", str(good[0]), str(bad), str(good[1]), "--db", str(db))
    assert result.returncode == 2
    assert result.stderr.count("\n") == 1
    assert result.stderr.startswith("flowspec-telemetry: rejected ")
    assert "Loaded 2 share reports" in result.stdout
    assert row_counts(db)["org_reports"] == 2


def _bad_inputs(tmp_path: Path, reports: list[Path]) -> dict[str, tuple[list[str], str]]:
    data = json.loads(reports[0].read_text())
    files = {
        "notjson.json": "{nope",
        "v9.json": json.dumps({**make_report(50), "share_schema_version": "9"}),
        "hash.json": json.dumps({**make_report(51), "report_sha256": "ab" * 32}),
        "id.json": json.dumps({**make_report(52), "project_id": "hmac:3f1c0a9b7d2e4f60"}),
        "reformatted-dup.json": json.dumps(data, sort_keys=True),
    }
    for name, text in files.items():
        (tmp_path / name).write_text(text)
    db = str(tmp_path / "org.duckdb")
    return {
        "missing --db folder": (
            [str(tmp_path / "notjson.json"), "--db", str(tmp_path / "nope" / "org.duckdb")],
            "does not exist",
        ),
        "non-JSON file": ([str(tmp_path / "notjson.json"), "--db", db], "not valid JSON"),
        "wrong version": (
            [str(tmp_path / "v9.json"), "--db", db],
            "unsupported share_schema_version",
        ),
        "duplicate": ([str(reports[1]), "--db", db], "duplicate"),
        "reformatted duplicate": (
            [str(tmp_path / "reformatted-dup.json"), "--db", db],
            "duplicate",
        ),
        "extra key: a hash": ([str(tmp_path / "hash.json"), "--db", db], "unexpected key"),
        "extra key: an id": ([str(tmp_path / "id.json"), "--db", db], "unexpected key"),
        "unreadable path (a folder)": ([str(tmp_path), "--db", db], "cannot read"),
        "missing file": ([str(tmp_path / "absent.json"), "--db", db], "cannot read"),
        "--db is a folder": ([str(reports[0]), "--db", str(tmp_path)], "is a folder"),
        "unknown URL scheme": ([str(reports[0]), "--db", "postgres://127.0.0.1/x"], "unsupported"),
    }


def test_bad_input_is_one_line_non_zero_and_the_store_unchanged(
    loaded: tuple[Path, list[Path]], tmp_path: Path
) -> None:
    db, reports = loaded
    before = row_counts(db)
    for case, (args, message) in _bad_inputs(tmp_path, reports).items():
        result = run_cli("org", "ingest", *args)
        assert result.returncode == 2, (case, result.stderr)
        assert result.stderr.count("\n") == 1, (case, result.stderr)
        assert message in result.stderr, (case, result.stderr)
        assert "Traceback" not in result.stderr
        assert row_counts(db) == before, case
        assert not (tmp_path / "nope").exists()


def test_rejected_files_create_no_store(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[]")
    db = tmp_path / "org.duckdb"
    result = run_cli("org", "ingest", str(bad), "--db", str(db))
    assert result.returncode == 2
    assert not db.exists()


def test_insights_and_report_without_a_store(tmp_path: Path) -> None:
    db = str(tmp_path / "none.duckdb")
    for args in (
        ("insights", "--db", db),
        ("report", "--html", str(tmp_path / "o.html"), "--db", db),
    ):
        result = run_cli("org", *args)
        assert result.returncode == 1, result.stderr
        assert result.stderr.count("\n") == 1
        assert "org ingest" in result.stderr
    not_a_db = tmp_path / "text.duckdb"
    not_a_db.write_text("hello")
    result = run_cli("org", "insights", "--db", str(not_a_db))
    assert result.returncode == 1 and result.stderr.count("\n") == 1
    bad_k = run_cli("org", "insights", "--db", db, "--k", "0")
    assert bad_k.returncode == 2


def test_org_commands_have_help_and_are_in_the_readme() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    for name in ("ingest", "insights", "report"):
        result = run_cli("org", name, "--help")
        assert result.returncode == 0
        assert "Usage:" in result.stdout
        assert f"flowspec-telemetry org {name}" in readme, name
    assert "## Team and org aggregation" in readme


def test_clickhouse_through_the_cli_matches_duckdb(
    loaded: tuple[Path, list[Path]], clickhouse_url: str
) -> None:
    db, reports = loaded
    result = run_cli("org", "ingest", *map(str, reports), "--db", clickhouse_url)
    assert result.returncode == 0, result.stderr
    dup = run_cli("org", "ingest", str(reports[0]), "--db", clickhouse_url)
    assert dup.returncode == 2 and "duplicate" in dup.stderr
    ours = run_cli("org", "insights", "--db", clickhouse_url, "--json")
    assert ours.returncode == 0, ours.stderr
    theirs = run_cli("org", "insights", "--db", str(db), "--json")
    assert json.loads(ours.stdout) == json.loads(theirs.stdout)
    missing = run_cli("org", "insights", "--db", re.sub(r"/[^/]+$", "/absent_db", clickhouse_url))
    assert missing.returncode == 1 and "org ingest" in missing.stderr


def test_missing_engine_is_one_clear_line(tmp_path: Path) -> None:
    blocker = tmp_path / "blocked"
    for name in ("duckdb", "clickhouse_driver"):
        (blocker / name).mkdir(parents=True)
        (blocker / name / "__init__.py").write_text("raise ImportError('not installed')\n")
    report = write_reports(tmp_path, range(1))[0]
    env = {"PYTHONPATH": str(blocker)}
    result = run_cli("org", "ingest", str(report), "--db", str(tmp_path / "o.duckdb"), env=env)
    assert result.returncode == 1
    assert result.stderr.count("\n") == 1
    assert "pip install 'flowspec-telemetry[org]'" in result.stderr
    result = run_cli("org", "ingest", str(report), "--db", "clickhouse://127.0.0.1:1/x", env=env)
    assert result.returncode == 1
    assert "pip install 'flowspec-telemetry[clickhouse]'" in result.stderr


@pytest.mark.parametrize("dangling", [True, False])
@pytest.mark.parametrize("what", ["db", "wal"])
@pytest.mark.parametrize("command", ["ingest", "insights"])
def test_db_path_through_a_symlink_is_refused(
    tmp_path: Path, dangling: bool, what: str, command: str
) -> None:
    """13.14: `--db` (or its `.wal`) planted as a link: nothing is created or read through it."""
    reports = write_reports(tmp_path, range(2))
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    target = elsewhere / "target.duckdb"
    db = tmp_path / "org.duckdb"
    if command == "insights" or not dangling:  # a real database at the end of the link
        assert run_cli("org", "ingest", *map(str, reports), "--db", str(target)).returncode == 0
    before = sorted((p.name, p.stat().st_size) for p in elsewhere.iterdir())
    if what == "db":
        db.symlink_to(target if not dangling else elsewhere / "missing.duckdb")
    else:
        if command == "insights" or not dangling:
            run_cli("org", "ingest", *map(str, reports), "--db", str(db))
        db.with_name(db.name + ".wal").symlink_to(elsewhere / "planted.wal")
    args = ["org", command, *(map(str, reports) if command == "ingest" else ()), "--db", str(db)]
    result = run_cli(*args)
    assert result.returncode == 2, result.stderr
    assert "symbolic link" in result.stderr and len(result.stderr.strip().splitlines()) == 1
    assert sorted((p.name, p.stat().st_size) for p in elsewhere.iterdir()) == before
