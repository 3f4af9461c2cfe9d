"""The local ledger of share reports: what left (or was made to leave) this machine.

One JSON line per written share report in `.flowspec/telemetry-shared.jsonl`
(mode 0600, appended with one `write()`, never through a symlink): when it was
written, the period it covers (and, for a weekly report, its ISO week and
report id), k, epsilon and its unit (`person-week`, or `event` for the older
format), the SHA-256 of the file and the file's name (never its path). The
privacy loss summed per 52 weeks and the yearly budget are computed from it
(`sharing.budget_status`); `status` shows them with the last entry and
`view --shared` lists every entry.

Upload attempts (`report.upload`) are lines of their own in the same file,
marked `"kind": "upload"`: time, ISO week, report id, SHA-256, collector and
HTTP status. `read_ledger` returns the shares only, `read_entries` both.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from flowspec_telemetry.core._files import append_private
from flowspec_telemetry.core._read import read_bounded
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.store import ensure_project_dir

__all__ = [
    "LEDGER_FILE",
    "ledger_path",
    "read_ledger",
    "record_share",
    "summary",
]

LEDGER_FILE: Final = "telemetry-shared.jsonl"
_MAX_LINE: Final = 4096
MAX_LEDGER_BYTES: Final = 16 << 20  # ~40,000 shares: far more than any project writes
_FIELDS: Final = (
    "written_at",
    "file",
    "sha256",
    "period",
    "iso_week",
    "report_id",
    "k",
    "epsilon",
    "unit",
    "share_schema_version",
)


def ledger_path(root: Path, names: ToolNames = FLOWSPEC) -> Path:
    return root / names.project_dir / LEDGER_FILE


def record_share(
    root: Path,
    *,
    file_name: str,
    sha256: str,
    report: dict[str, Any],
    names: ToolNames = FLOWSPEC,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Append one entry for a written share report; returns the entry."""
    privacy = report["privacy"]
    entry = {
        "written_at": (now or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "file": file_name,
        "sha256": sha256,
        "period": dict(report["period"]),
        "k": privacy.get("k", privacy.get("min_contributors")),
        "epsilon": privacy["epsilon"],
        "unit": privacy.get("unit", "event"),
        "share_schema_version": report["share_schema_version"],
    }
    if "report_id" in report:  # a weekly report (format 2)
        entry["iso_week"] = report["period"]["iso_week"]
        entry["report_id"] = report["report_id"]
    append_entry(root, entry, names)
    return entry


def read_entries(root: Path, names: ToolNames = FLOWSPEC) -> list[dict[str, Any]]:
    """Every readable ledger line as written (shares and uploads), oldest first.

    Read with the bounded reader: a FIFO, `/dev/zero` or a symlink planted at
    the ledger's name is refused at once (no entries), never waited on.
    """
    try:
        raw_all = read_bounded(ledger_path(root, names), MAX_LEDGER_BYTES)
    except OSError:
        return []
    entries = []
    for raw in raw_all.splitlines():
        if len(raw) > _MAX_LINE:
            continue
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if isinstance(data, dict) and isinstance(data.get("written_at"), str):
            entries.append(data)
    return entries


def read_ledger(root: Path, names: ToolNames = FLOWSPEC) -> list[dict[str, Any]]:
    """Every share report written, oldest first (upload attempts: `report.upload.read_uploads`)."""
    return [
        {key: e.get(key) for key in _FIELDS}
        for e in read_entries(root, names)
        if e.get("kind", "share") == "share"
    ]


def append_entry(root: Path, entry: dict[str, Any], names: ToolNames = FLOWSPEC) -> None:
    """Append one line (a share, or an upload attempt) to the ledger."""
    ensure_project_dir(root, names)
    line = json.dumps(entry, ensure_ascii=True, separators=(",", ":")) + "\n"
    append_private(ledger_path(root, names), line.encode("ascii"))


def summary(root: Path, names: ToolNames = FLOWSPEC) -> dict[str, Any]:
    """What `status` shows: how many share reports were written, and the last one."""
    entries = read_ledger(root, names)
    return {"count": len(entries), "last": entries[-1] if entries else None}
