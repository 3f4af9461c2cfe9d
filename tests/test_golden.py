"""Snapshot of the answers for the demo history: a change in the demo, the
insights engine or its JSON shape shows up here as a readable diff.

The demo is seeded and replayed on a fixed clock, so everything in the
insights document is stable (salts differ per run, but no hash appears in it).
To accept an intended change: `UPDATE_GOLDEN=1 python -m pytest tests/test_golden.py`
and review the diff of `tests/data/golden/demo-insights.json` before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from flowspec_telemetry.analysis.insights import project_insights
from flowspec_telemetry.demo import build_demo

GOLDEN = Path(__file__).parent / "data" / "golden" / "demo-insights.json"


def test_demo_insights_match_the_snapshot(tmp_path: Path) -> None:
    folder = tmp_path / "demo"
    build_demo(folder)
    got = json.loads(json.dumps(project_insights(folder, workers=1), sort_keys=True))
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.write_text(json.dumps(got, indent=1, sort_keys=True) + "\n")
    expected = json.loads(GOLDEN.read_text())
    assert got == expected


def test_the_snapshot_answers_every_question() -> None:
    data = json.loads(GOLDEN.read_text())
    assert data["roles"]["most_selected_at_init"] == {"role": "dev", "count": 3}
    assert data["commands"]["top"][0]["command"] == "/flow:implement"
    assert data["security"]["developer"]["session_share"]["enough_data"] is True
    assert 0 < data["handoffs"]["click_through"]["value"] < 1
    assert 0 < data["completion"]["overall"]["value"] < 1
    assert len(data["activity"]["by_week"]) == 3
