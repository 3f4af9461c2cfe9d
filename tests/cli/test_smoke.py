"""One real run of every command through the installed console script, in its own process.

The other CLI tests run the typer commands in-process (fast); these make sure
each command also works as users run it: a fresh interpreter, the console
script's entry point, real pipes. The list of commands is the real command
tree, so a new command without a smoke run here fails.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import typer.main

from flowspec_telemetry.cli.app import app
from flowspec_telemetry.core.tracker import Tracker

from ..conftest import run_cli
from ..org.conftest import write_reports

# Arguments for one ordinary run of each command; "{dir}" is a scratch folder.
RUNS: dict[tuple[str, ...], tuple[str, ...]] = {
    ("status",): ("--json",),
    ("enable",): ("--project", "--yes"),
    ("disable",): ("--project",),
    ("prompt",): ("--telemetry",),
    ("notice",): (),
    ("schema",): ("--json",),
    ("view",): ("--limit", "5"),
    ("export",): ("--format", "jsonl", "--output", "-"),
    ("stats",): ("--json",),
    ("insights",): ("--json",),
    ("dashboard",): (),
    ("report",): ("--html", "{dir}/report.html"),
    ("install-hooks",): ("--dry-run",),
    ("audit",): ("--json",),
    ("upload",): ("--dry-run",),
    ("demo",): ("{dir}/demo",),
    ("migrate",): ("--dry-run",),
    ("clear",): ("--force",),
    ("track",): ("role.selected", "--role", "dev", "--source", "init"),
    ("track-role",): ("dev", "--command", "/flow:implement", "-q"),
    ("track-agent",): ("backend-engineer", "--command", "/flow:implement", "-q"),
    ("track-handoff",): ("pm-planner", "backend-engineer", "-r", "dev", "-q"),
    ("hook",): ("claude-code",),
    ("collector", "serve"): ("--db", "{dir}/collector.duckdb", "--check"),
    ("org", "ingest"): ("{dir}/share-0.json", "--db", "{dir}/org.duckdb"),
    ("org", "insights"): ("--db", "{dir}/org.duckdb", "--json"),
    ("org", "report"): ("--html", "{dir}/org.html", "--db", "{dir}/org.duckdb"),
}
ORDER = list(RUNS)  # org ingest before org insights/report; clear last but the fast path


def _tree() -> set[tuple[str, ...]]:
    def walk(command: object, path: tuple[str, ...]) -> set[tuple[str, ...]]:
        subs = getattr(command, "commands", None)
        if not subs:
            return {path}
        return set().union(*(walk(sub, (*path, name)) for name, sub in subs.items()))

    return walk(typer.main.get_command(app), ())


def test_every_command_of_the_tree_has_a_smoke_run() -> None:
    assert _tree() == set(RUNS)


@pytest.fixture(scope="module")
def scratch(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("smoke")
    write_reports(folder, range(1))
    return folder


@pytest.mark.parametrize("path", ORDER, ids=" ".join)
def test_each_command_runs_as_the_real_console_script(
    path: tuple[str, ...], consented: Path, scratch: Path
) -> None:
    tracker = Tracker()
    for role in ("dev", "qa"):
        tracker.track("role.selected", role=role, source="init", project_root=consented)
    tracker.close()
    if path[0] in ("org", "collector"):
        pytest.importorskip("duckdb")
        if path[0] == "org" and path[1] != "ingest" and not (scratch / "org.duckdb").exists():
            run_cli(
                "org", "ingest", str(scratch / "share-0.json"), "--db", str(scratch / "org.duckdb")
            )
    args = [a.replace("{dir}", str(scratch)) for a in RUNS[path]]
    done = run_cli(*path, *args, cwd=consented, process=True)
    assert done.returncode == 0, (path, done.stdout[-400:], done.stderr[-400:])
    assert "Traceback" not in done.stderr
