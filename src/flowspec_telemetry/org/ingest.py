"""Loading share reports: read and check each file, then load the good ones together.

A file is rejected (with one reason) when it cannot be read, is not UTF-8
JSON (duplicate keys, NaN and files over `MAX_BYTES` included), has another
`share_schema_version`, fails `validate_share_report` (which refuses anything
beyond aggregate counts per catalog value: extra keys, hashes, ids, times),
or is a duplicate: the same canonical content (SHA-256 of the JSON with
sorted keys and no spaces, so re-formatting a file does not hide it) as a
report already in the store or earlier in the same batch.

Weekly reports (share format 2) are checked by
`report.weekly.validate_weekly_report` and, against the store and the rest
of the batch, by `org.weekly.weekly_conflicts` (a reused report id, or a
second report of one ISO week from the same contributor pseudonym).

Each file stands alone: a rejected file never stops the others. Every
accepted report of one call is loaded as one load (one transaction on
DuckDB; on ClickHouse one `org_loads` row written last), so a failure of the
store leaves none of them counted.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

from flowspec_telemetry.org._queries import REPORT_COUNTS, known_reports
from flowspec_telemetry.org._schema import STORE_VERSION
from flowspec_telemetry.org.backends import Store, StoreError
from flowspec_telemetry.org.weekly import weekly_conflicts, weekly_rows
from flowspec_telemetry.report import weekly
from flowspec_telemetry.report.share import SHARE_SCHEMA_VERSION, TABLES, validate_share_report

__all__ = [
    "MAX_BYTES",
    "Accepted",
    "IngestResult",
    "Rejected",
    "canonical_sha256",
    "check_report",
    "ingest",
    "parse_report",
    "read_report",
    "report_rows",
]

MAX_BYTES: Final = 8 * 1024 * 1024  # a share report of a 256-value catalog stays far below
# At most this many reports in one store: with at most 2**31 - 1 per cell (format
# 1: `share.MAX_CELL_COUNT`; format 2: its bound plus the noise's tail, far
# below), (2**32 - 1) * (2**31 - 1) < 2**63: no Int64 sum of a cell can wrap (13.7).
MAX_REPORTS: Final = 2**32 - 1
_LOOKUP_CHUNK: Final = 500


@dataclass(frozen=True, slots=True)
class Accepted:
    """A valid share report read from `name`, with the SHA-256 of its canonical JSON."""

    name: str
    sha256: str
    report: dict[str, Any]

    @property
    def weekly(self) -> bool:
        """A weekly report (share format 2), not one of the older format."""
        return bool(self.report.get("share_schema_version") == weekly.SHARE_FORMAT)


@dataclass(frozen=True, slots=True)
class Rejected:
    name: str
    reason: str


@dataclass(slots=True)
class IngestResult:
    loaded: list[Accepted] = field(default_factory=list)
    rejected: list[Rejected] = field(default_factory=list)
    cells: int = 0


class _BadJSONError(ValueError):
    pass


def _no_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [k for k, _ in pairs]
    if len(set(keys)) != len(keys):
        raise _BadJSONError("an object repeats a key")
    return dict(pairs)


def _no_constants(name: str) -> Any:
    raise _BadJSONError(f"{name} is not a JSON number")


def canonical_sha256(report: dict[str, Any]) -> str:
    """SHA-256 of the report's canonical JSON: the duplicate key."""
    text = json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    return hashlib.sha256(text.encode("ascii")).hexdigest()


def check_report(name: str, data: Any) -> Accepted | Rejected:
    """Accept a parsed document only if it is a valid share report of this schema version."""
    if not isinstance(data, dict):
        return Rejected(name, "not a share report: the file holds no JSON object")
    if "share_schema_version" not in data:
        return Rejected(name, "not a share report: it has no share_schema_version")
    version = data["share_schema_version"]
    if version == weekly.SHARE_FORMAT:
        errors = weekly.validate_weekly_report(data)
        if errors:
            more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
            return Rejected(name, f"not a valid weekly share report: {errors[0]}{more}")
        return Accepted(name, canonical_sha256(data), data)
    if version != SHARE_SCHEMA_VERSION:
        return Rejected(
            name,
            f"unsupported share_schema_version {json.dumps(version)[:20]} "
            f"(this version reads {weekly.SHARE_FORMAT!r} and the older "
            f"{SHARE_SCHEMA_VERSION!r})",
        )
    errors = validate_share_report(data)
    if errors:
        more = f" (and {len(errors) - 1} more)" if len(errors) > 1 else ""
        return Rejected(
            name, f"not a valid share report (aggregate counts only): {errors[0]}{more}"
        )
    return Accepted(name, canonical_sha256(data), data)


def read_report(path: Path) -> Accepted | Rejected:
    """Read and check one file; never raises."""
    name = str(path)
    try:
        with path.open("rb") as fh:
            blob = fh.read(MAX_BYTES + 1)
    except OSError as exc:
        return Rejected(name, f"cannot read it: {exc.strerror or exc}")
    return parse_report(name, blob)


def parse_report(name: str, blob: bytes) -> Accepted | Rejected:
    """Parse and check the bytes of one report (a file's, or an upload's); never raises."""
    if len(blob) > MAX_BYTES:
        return Rejected(name, f"not a share report: larger than {MAX_BYTES // 2**20} MiB")
    try:
        data = json.loads(
            blob.decode("utf-8"),
            object_pairs_hook=_no_duplicate_keys,
            parse_constant=_no_constants,
        )
    except UnicodeDecodeError:
        return Rejected(name, "not a share report: not UTF-8 text")
    except _BadJSONError as exc:
        return Rejected(name, f"not a share report: {exc}")
    except ValueError as exc:
        return Rejected(name, f"not a share report: not valid JSON ({str(exc)[:80]})")
    except RecursionError:
        return Rejected(name, "not a share report: nested too deeply")
    return check_report(name, data)


def report_rows(
    load_id: str, item: Accepted
) -> tuple[tuple[Any, ...], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The rows of one report: (its `org_reports` row, its cells, its catalog values)."""
    rep = item.report
    sha = item.sha256
    eps = rep["privacy"]["epsilon"]
    report_row = (
        load_id,
        sha,
        rep["generator"],
        rep["generated_on"],
        rep["period"]["start"] or "",
        rep["period"]["end"] or "",
        rep["privacy"]["k"],
        "" if eps is None else repr(eps),
        rep["privacy"]["suppressed_cells"],
    )
    cells = []
    for table in TABLES:
        for row in rep["tables"][table]["rows"]:
            *dims, count = row
            cells.append(
                (load_id, sha, table, dims[0], dims[1] if len(dims) > 1 else "", int(count))
            )
    catalog = [
        (load_id, sha, kind, value)
        for kind, values in sorted(rep["catalog"].items())
        for value in values
    ]
    return report_row, cells, catalog


def _known(store: Store, hashes: Sequence[str]) -> set[str]:
    known: set[str] = set()
    for i in range(0, len(hashes), _LOOKUP_CHUNK):
        known.update(r[0] for r in store.query(known_reports(hashes[i : i + _LOOKUP_CHUNK])))
    return known


def screen(store: Store, items: Sequence[Accepted]) -> tuple[list[Accepted], list[Rejected]]:
    """Split `items` into those a load would store and those it refuses (with why).

    Refused: a weekly report whose id the store (or an earlier item) holds, or a
    second report of a week by one contributor; an older-format report whose
    content the store (or an earlier item) holds. A refusal whose reason starts
    with "duplicate" names a report id or content already there; any other is a
    conflict. The collector screens uploads with it before it answers them.
    """
    store.create_schema()  # CREATE TABLE IF NOT EXISTS: also adds tables a newer version needs
    rejected: list[Rejected] = []
    weekly_items = [i for i in items if i.weekly]
    refused = weekly_conflicts(store, [(i.name, i.report) for i in weekly_items])
    rejected += [Rejected(i.name, refused[i.name]) for i in weekly_items if i.name in refused]
    items = [i for i in items if not (i.weekly and i.name in refused)]
    known = _known(store, [i.sha256 for i in items if not i.weekly])
    first_seen: dict[str, str] = {}
    fresh: list[Accepted] = []
    for item in items:
        if item.sha256 in known:
            rejected.append(
                Rejected(item.name, f"duplicate: already ingested (sha256 {item.sha256[:12]}…)")
            )
        elif item.sha256 in first_seen:
            rejected.append(
                Rejected(item.name, f"duplicate: the same report as {first_seen[item.sha256]:.200}")
            )
        else:
            first_seen[item.sha256] = item.name
            fresh.append(item)
    return fresh, rejected


def ingest(store: Store, items: Sequence[Accepted]) -> IngestResult:
    """Load every report not already in the store, as one load (all or none).

    Duplicates and conflicts (`screen`) come back as rejected. Raises
    `StoreError` when the store fails; then nothing of this call counts.
    """
    result = IngestResult()
    fresh, result.rejected = screen(store, items)
    if not fresh:
        return result
    adding = len(fresh)  # of either format: both hold Int64 cell counts the queries sum
    held = sum(int(row[0] or 0) for query in REPORT_COUNTS for row in store.query(query))
    if held + adding > MAX_REPORTS:
        raise StoreError(
            f"the store holds {held:,} share reports; {adding:,} more would pass the "
            f"{MAX_REPORTS:,} a store can sum without overflow: start another store"
        )
    load_id = uuid.uuid4().hex
    reports, cells, catalog = [], [], []
    weekly_tables: dict[str, list[tuple[Any, ...]]] = {}
    for item in fresh:
        if item.weekly:
            for table, rows in weekly_rows(load_id, item.report, item.sha256).items():
                weekly_tables.setdefault(table, []).extend(rows)
            continue
        report_row, cell_rows, catalog_rows = report_rows(load_id, item)
        reports.append(report_row)
        cells += cell_rows
        catalog += catalog_rows
    today = datetime.now(UTC).date().isoformat()
    store.begin()
    try:
        for table, rows in weekly_tables.items():
            store.insert(table, rows)
        store.insert("org_catalog", catalog)
        store.insert("org_cells", cells)
        store.insert("org_reports", reports)
        store.insert("org_loads", [(load_id, STORE_VERSION, today, len(fresh))])  # last: commit
        store.commit()
    except StoreError:
        store.rollback()
        raise
    result.loaded = fresh
    result.cells = len(cells) + len(weekly_tables.get("org_weekly_cells", []))
    return result
