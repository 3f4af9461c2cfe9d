"""Sharing a week: the mode check, the once-per-week rule, the yearly budget, the ledger.

`prepare_week` returns the exact bytes of a week's share report:

- a week already shared is **reprinted** from the copy kept beside the
  ledger (`.flowspec/telemetry-shared/<week>.json`, checked against the
  SHA-256 the ledger recorded), never recomputed, and costs no epsilon again;
- otherwise it is made (`weekly.build_weekly_report`) from the events of the
  week recorded after the person agreed to share, once the week is over, and
  only when sharing it keeps the privacy loss of every 52 consecutive weeks
  within the yearly budget (`FLOWSPEC_TELEMETRY_EPSILON_BUDGET`, default
  `DEFAULT_BUDGET`).

`record_week` writes the kept copy and the ledger line; `budget_status` is
what `status` and `view --shared` show.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from fractions import Fraction
from pathlib import Path
from typing import Any, Final

from flowspec_telemetry.core import ledger
from flowspec_telemetry.core.errors import TelemetryError
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.privacy import load_or_create_salt, read_salt
from flowspec_telemetry.core.roles import load_catalog
from flowspec_telemetry.core.store import ReadStats, ensure_project_dir
from flowspec_telemetry.history.erase import SHARED_COPIES_DIR
from flowspec_telemetry.history.reader import Window, iter_events
from flowspec_telemetry.report import weekly
from flowspec_telemetry.report._output import write_private
from flowspec_telemetry.report.share import catalog_lists, count_events

__all__ = [
    "BUDGET_ENV",
    "DEFAULT_BUDGET",
    "Prepared",
    "ShareRefusedError",
    "budget_status",
    "prepare_week",
    "record_week",
    "share_text",
    "spent_in_window",
]

DEFAULT_BUDGET: Final = Fraction(208)  # 52 weekly reports at the default epsilon of 4
BUDGET_ENV: Final = "TELEMETRY_EPSILON_BUDGET"
WINDOW_WEEKS: Final = 52
COPIES_DIR: Final = SHARED_COPIES_DIR


class ShareRefusedError(TelemetryError):
    """Why a week cannot be shared, in one line; `usage` is True for a bad request."""

    def __init__(self, message: str, *, usage: bool = False) -> None:
        super().__init__(message)
        self.usage = usage


@dataclass(frozen=True, slots=True)
class Prepared:
    """A week's share report: its exact bytes, parsed, and whether it was shared before."""

    week: str
    blob: bytes
    report: dict[str, Any]
    reprint: bool
    entry: dict[str, Any] | None = None


def share_text(report: Mapping[str, Any]) -> str:
    """The exact text of a share report file (and of `--preview`)."""
    return json.dumps(report, indent=2, sort_keys=True, ensure_ascii=True) + "\n"


def budget(names: ToolNames = FLOWSPEC) -> Fraction:
    """The yearly budget: the setting, or the default."""
    raw = os.environ.get(names.env_prefix + BUDGET_ENV, "").strip()
    if not raw:
        return DEFAULT_BUDGET
    try:
        value = Fraction(raw)
    except (ValueError, ZeroDivisionError):
        raise ShareRefusedError(
            f"{names.env_prefix}{BUDGET_ENV}={raw[:20]!r} is not a number", usage=True
        ) from None
    if value <= 0:
        raise ShareRefusedError(f"{names.env_prefix}{BUDGET_ENV} must be above 0", usage=True)
    return value


def _weekly_entries(entries: Iterable[Mapping[str, Any]]) -> list[tuple[int, Fraction, str]]:
    out = []
    for entry in entries:
        if entry.get("share_schema_version") != weekly.SHARE_FORMAT:
            continue
        try:
            ordinal = weekly.week_ordinal(str(entry.get("iso_week")))
            eps = Fraction(str(entry.get("epsilon")))
        except (ValueError, ZeroDivisionError):
            continue
        out.append((ordinal, eps, str(entry["iso_week"])))
    return out


def spent_in_window(entries: Sequence[Mapping[str, Any]], week: str) -> Fraction:
    """The largest epsilon of any 52 consecutive weeks that hold `week` (already shared only)."""
    target = weekly.week_ordinal(week)
    items = _weekly_entries(entries)
    best = Fraction(0)
    for start in range(target - WINDOW_WEEKS + 1, target + 1):
        total = sum((eps for o, eps, _ in items if start <= o < start + WINDOW_WEEKS), Fraction(0))
        best = max(best, total)
    return best


def budget_status(
    root: Path, names: ToolNames = FLOWSPEC, now: datetime | None = None
) -> dict[str, Any]:
    """What `status` and `view --shared` show: the loss of the last 52 weeks and the budget."""
    entries = ledger.read_ledger(root, names)
    current = weekly.week_of((now or datetime.now(UTC)).date())
    target = weekly.week_ordinal(current)
    items = _weekly_entries(entries)
    spent = sum((eps for o, eps, _ in items if target - WINDOW_WEEKS < o <= target), Fraction(0))
    try:
        limit = budget(names)
    except ShareRefusedError:
        limit = DEFAULT_BUDGET
    return {
        "weekly_reports": len(items),
        "epsilon_last_52_weeks": float(spent),
        "budget": float(limit),
        "remaining": float(max(Fraction(0), limit - spent)),
        "legacy_reports": sum(
            1 for e in entries if e.get("share_schema_version") != weekly.SHARE_FORMAT
        ),
    }


def _copy_path(root: Path, names: ToolNames, week: str) -> Path:
    return root / names.project_dir / COPIES_DIR / f"{week}.json"


def _reprint(root: Path, names: ToolNames, week: str, entry: dict[str, Any]) -> Prepared:
    path = _copy_path(root, names, week)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC)
        with os.fdopen(fd, "rb") as fh:
            blob = fh.read(weekly.MAX_REPORT_BYTES + 1)
    except OSError as exc:
        raise ShareRefusedError(
            f"{week} was already shared, but its kept copy {path.name} cannot be read "
            f"({exc.strerror or exc}); a week is never shared twice"
        ) from None
    if hashlib.sha256(blob).hexdigest() != entry.get("sha256"):
        raise ShareRefusedError(
            f"{week} was already shared, but its kept copy no longer matches the SHA-256 in the "
            "ledger; a week is never shared twice"
        )
    return Prepared(week, blob, json.loads(blob), reprint=True, entry=entry)


def _events_of(root: Path, names: ToolNames, since: str, until: str) -> Iterable[dict[str, Any]]:
    for event in iter_events(root, names, ReadStats(), Window(since, until)):
        if event.get("legacy_type") and str(event.get("event_type", "")).startswith("command."):
            continue  # a run with no recorded end would bias completion
        yield event


def prepare_week(
    root: Path,
    names: ToolNames = FLOWSPEC,
    *,
    week: str | None,
    share_since: str | None,
    epsilon: Fraction = weekly.DEFAULT_EPSILON,
    min_contributors: int = weekly.DEFAULT_MIN_CONTRIBUTORS,
    now: datetime | None = None,
    create_salt: bool = True,
) -> Prepared:
    """The share report of `week` (default: the last finished one). Raises ShareRefusedError.

    With `create_salt` False (a preview), nothing is written: a project with no
    salt yet is refused instead.
    """
    moment = now or datetime.now(UTC)
    week = week or weekly.last_finished_week(moment)
    try:
        monday, sunday = weekly.parse_week(week)
    except weekly.WeekError as exc:
        raise ShareRefusedError(str(exc), usage=True) from None
    entries = ledger.read_ledger(root, names)
    for entry in reversed(entries):
        if (
            entry.get("share_schema_version") == weekly.SHARE_FORMAT
            and entry.get("iso_week") == week
        ):
            return _reprint(root, names, week, entry)
    if share_since is None:
        raise ShareRefusedError(
            "sharing is off: you have not agreed to share (mode is not 'share'); "
            "nothing is prepared for sharing"
        )
    end = monday + timedelta(days=7)
    if end > moment.date():
        raise ShareRefusedError(
            f"{week} is not over yet (it ends on Sunday {sunday.isoformat()}, UTC): "
            "a week is shared once, when it is complete",
            usage=True,
        )
    opted_in = share_since[:19] + ".000Z"  # the events' millisecond form, so strings compare
    since = max(f"{monday.isoformat()}T00:00:00.000Z", opted_in)
    until = f"{end.isoformat()}T00:00:00.000Z"
    if since >= until:
        raise ShareRefusedError(
            f"{week} ended before you agreed to share ({share_since[:10]}): "
            "events from before that are never shared",
            usage=True,
        )
    limit = budget(names)
    spent = spent_in_window(entries, week)
    if spent + epsilon > limit:
        raise ShareRefusedError(
            f"refused: sharing {week} at epsilon {float(epsilon):g} would bring the privacy loss "
            f"of 52 consecutive weeks to {float(spent + epsilon):g}, over the yearly budget "
            f"{float(limit):g} ({names.env_prefix}{BUDGET_ENV})"
        )
    lists = catalog_lists(load_catalog(root, names), names)
    counted, _, _ = count_events(_events_of(root, names, since, until), lists)
    cells = weekly.weekly_cells(counted)
    folder = os.path.join(root, names.project_dir)
    salt = load_or_create_salt(folder) if create_salt else read_salt(folder)
    if salt is None:
        raise ShareRefusedError(
            "this project has no secret salt yet (no event was ever recorded here), "
            "so there is no report to preview"
        )
    report = weekly.build_weekly_report(
        cells, lists, week=week, salt=salt, epsilon=epsilon, min_contributors=min_contributors
    )
    return Prepared(week, share_text(report).encode("ascii"), report, reprint=False)


def record_week(
    root: Path,
    prepared: Prepared,
    *,
    file_name: str,
    names: ToolNames = FLOWSPEC,
    now: datetime | None = None,
) -> dict[str, Any]:
    """Keep the copy and append the ledger line of a newly shared week; returns the entry."""
    if prepared.reprint:
        assert prepared.entry is not None  # noqa: S101
        return prepared.entry
    ensure_project_dir(root, names)
    folder = root / names.project_dir / COPIES_DIR
    folder.mkdir(mode=0o700, exist_ok=True)
    os.chmod(folder, 0o700)
    write_private(_copy_path(root, names, prepared.week), prepared.blob, force=True)
    return ledger.record_share(
        root,
        file_name=file_name,
        sha256=hashlib.sha256(prepared.blob).hexdigest(),
        report=prepared.report,
        names=names,
        now=now,
    )
