"""Lines written now by the installed flowspec's own module read as the committed fixture does."""

from __future__ import annotations

import importlib.util
import json
import shutil
from pathlib import Path
from typing import Any

from flowspec_telemetry.analysis.insights import compute_insights
from flowspec_telemetry.core.store import iter_events

FIXTURE = Path(__file__).parent.parent / "data" / "flowspec-legacy"


def _shape(line: dict[str, Any]) -> tuple[object, ...]:
    """A line without its time: what must not drift between flowspec's output and the fixture."""
    return tuple(
        sorted((k, v) for k, v in line.items() if k != "timestamp" and not isinstance(v, dict))
    ) + tuple(sorted((k, tuple(sorted(v))) for k, v in line.items() if isinstance(v, dict)))


def _generate(out: Path) -> None:
    spec = importlib.util.spec_from_file_location("make_lines", FIXTURE / "make_lines.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.generate(out)


def test_the_committed_lines_are_what_the_real_module_writes(
    flowspec_exe: Path, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh.jsonl"
    _generate(fresh)
    live = [json.loads(x) for x in fresh.read_text().splitlines()]
    committed = [json.loads(x) for x in (FIXTURE / "lines.jsonl").read_text().splitlines()]
    assert [_shape(x) for x in live] == [_shape(x) for x in committed]
    assert all("schema_version" not in x for x in live)
    assert any(x["timestamp"].endswith("+00:00") and "." in x["timestamp"] for x in live)


def test_history_written_by_the_real_module_answers_the_questions(
    flowspec_exe: Path, consented: Path, tmp_path: Path
) -> None:
    fresh = tmp_path / "fresh.jsonl"
    _generate(fresh)
    shutil.copyfile(fresh, consented / ".flowspec" / "telemetry.jsonl")
    doc = compute_insights(iter_events(consented)).to_json()
    assert doc["based_on"]["skipped_lines"] == 0
    assert doc["commands"]["top"][0] == {"command": "/flow:implement", "count": 2}
    assert doc["completion"]["runs_without_end"] == 6
    assert "a9db44ecf5fc" not in json.dumps(doc)


def test_migrate_rewrites_what_the_real_module_wrote(
    flowspec_exe: Path, consented: Path, tmp_path: Path
) -> None:
    from flowspec_telemetry.history.migrate import migrate

    fresh = tmp_path / "fresh.jsonl"
    _generate(fresh)
    live = consented / ".flowspec" / "telemetry.jsonl"
    shutil.copyfile(fresh, live)
    before = compute_insights(iter_events(consented)).to_json()
    assert migrate(consented).migrated == len(fresh.read_text().splitlines())
    text = live.read_text()
    assert "hostname_hash" not in text and "metadata" not in text
    assert all(json.loads(x)["schema_version"] == "1.0" for x in text.splitlines())
    after = compute_insights(iter_events(consented)).to_json()
    assert after["commands"]["top"] == before["commands"]["top"]
    assert after["completion"] == before["completion"]
    assert migrate(consented).migrated == 0
