"""Uploading finished weeks' share reports to the collector the host configured.

Only in `share` mode, only where the host set a collector URL
(`ToolNames(collector_url=...)`, or `<PREFIX>TELEMETRY_COLLECTOR_URL`; this
package has no default endpoint and never takes one from the repository, which
could otherwise point a person's reports at a server of its choosing).

Never from the tracking path and never in the caller's time: CLI commands and
the hook call `cli._upload_trigger.maybe_start`, which at most once a UTC day
spawns the detached step `python -m flowspec_telemetry upload --background`
and returns. That step (`run_upload`) takes a lock (a second one exits at
once) and, for every finished ISO week since the person agreed to share that
is not uploaded yet:

1. prepares the week exactly as `report --share --week W` would (a week shared
   before is reprinted from its kept copy; a new one is recorded in the ledger
   first, so `view --shared` shows it before it leaves);
2. POSTs those exact bytes (`report --share --preview` shows the same) with a
   timeout, TLS certificate checks always on, `http://` only to loopback;
3. appends the attempt to the ledger (`"kind": "upload"`: time, week, report
   id, SHA-256, collector, HTTP status).

A week not accepted is tried again on a later day, and dropped (recorded as
such) 21 days after it ended. `FLOWSPEC_TELEMETRY_DEBUG=1` prints what would be
sent and sends nothing.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any, Final

from flowspec_telemetry.core.names import FLOWSPEC, ToolNames

__all__ = [
    "DROP_AFTER_DAYS",
    "UploadResult",
    "collector_url",
    "due_weeks",
    "read_uploads",
    "run_upload",
    "url_problem",
]

LOCK_FILE: Final = "telemetry-upload.lock"
DROP_AFTER_DAYS: Final = 21
TIMEOUT_S: Final = 10.0
_LOOPBACK: Final = frozenset({"localhost", "::1"})


@dataclass(frozen=True, slots=True)
class UploadResult:
    """One week's attempt: its HTTP status (0: not sent) and the collector's one-line answer."""

    week: str
    status: int
    reason: str
    sha256: str = ""
    report_id: str = ""


def collector_url(names: ToolNames = FLOWSPEC) -> str | None:
    """The host's collector URL, or None: then nothing is ever uploaded."""
    return names.resolved_collector_url()


def url_problem(url: str) -> str | None:
    """Why `url` must not be used (None when it may): https, or http to loopback only."""
    from urllib.parse import urlsplit

    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
    except ValueError:
        return "the collector URL cannot be parsed"
    if parts.username or parts.password:
        return "the collector URL must not carry a user name or password"
    if parts.scheme == "https" and host:
        return None
    if parts.scheme == "http" and (host in _LOOPBACK or host.startswith("127.")):
        return None
    if parts.scheme == "http":
        return "the collector URL uses http:// to a host that is not loopback; use https://"
    return "the collector URL must start with https://"


def _folder(root: Path, names: ToolNames) -> Path:
    return root / names.project_dir


def _today(now: datetime | None) -> date:
    return (now or datetime.now(UTC)).date()


# ------------------------------------------------------------- the ledger


def read_uploads(root: Path, names: ToolNames = FLOWSPEC) -> list[dict[str, Any]]:
    """Every upload attempt recorded in the ledger, oldest first."""
    from flowspec_telemetry.core.ledger import read_entries

    return [e for e in read_entries(root, names) if e.get("kind") == "upload"]


def _record(root: Path, names: ToolNames, result: UploadResult, url: str, now: datetime) -> None:
    from flowspec_telemetry.core.ledger import append_entry

    append_entry(
        root,
        {
            "kind": "upload",
            "written_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "iso_week": result.week,
            "report_id": result.report_id or None,
            "sha256": result.sha256 or None,
            "collector": url,
            "http_status": result.status,
            "result": result.reason[:200],
        },
        names,
    )


def _week_end(week: str) -> date:
    from flowspec_telemetry.report import weekly

    monday, _ = weekly.parse_week(week)
    return monday + timedelta(days=7)


def due_weeks(
    root: Path, names: ToolNames, share_since: str, now: datetime | None = None
) -> tuple[list[str], list[str]]:
    """(weeks to upload now, weeks to drop): finished, after opting in, not yet accepted."""
    from flowspec_telemetry.report import weekly

    today = _today(now)
    done = {
        str(e.get("iso_week"))
        for e in read_uploads(root, names)
        if isinstance(e.get("http_status"), int)
        and (200 <= e["http_status"] < 300 or e.get("result") == "dropped")
    }
    first = datetime.fromisoformat(share_since.replace("Z", "+00:00")).date()
    monday = first - timedelta(days=first.weekday())
    due, dropped = [], []
    while monday + timedelta(days=7) <= today:
        week = weekly.week_of(monday)
        if week not in done:
            if (today - (monday + timedelta(days=7))).days > DROP_AFTER_DAYS:
                dropped.append(week)
            else:
                due.append(week)
        monday += timedelta(days=7)
    return due, dropped


# ------------------------------------------------------------- the step


def _post(url: str, blob: bytes) -> tuple[int, str]:
    import ssl
    import urllib.error
    import urllib.request

    request = urllib.request.Request(  # noqa: S310 - url_problem allows https and loopback http
        url.rstrip("/") + "/v1/reports",
        data=blob,
        method="POST",
        headers={"Content-Type": "application/json", "User-Agent": "flowspec-telemetry"},
    )
    context = ssl.create_default_context()  # certificate and host name checks, always
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S, context=context) as response:  # noqa: S310
            status, body = response.status, response.read(4096)
    except urllib.error.HTTPError as exc:
        status, body = exc.code, exc.read(4096)
    except (OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return 0, f"not sent: {reason}"[:200]
    try:
        reason = str(json.loads(body).get("reason", "")).strip()
    except (ValueError, AttributeError):
        reason = ""
    return status, (reason.splitlines()[0] if reason else f"HTTP {status}")[:200]


def run_upload(
    root: Path,
    names: ToolNames = FLOWSPEC,
    *,
    share_since: str | None,
    now: datetime | None = None,
    debug: bool | None = None,
    say: Any = None,
) -> list[UploadResult]:
    """Upload every due week (under the upload lock); returns what happened to each.

    `share_since` is when the person agreed to share (None: not in `share`
    mode, so nothing is done); the caller asks `consent._share.share_decision`,
    the layer above this one. Raises nothing for a week that fails: it is
    recorded and tried another day. Returns [] when another upload step holds
    the lock, sharing is not on, or no collector is set.
    """
    import fcntl

    from flowspec_telemetry.report.sharing import ShareRefusedError, prepare_week, record_week

    url = collector_url(names)
    if url is None or share_since is None:
        return []
    problem = url_problem(url)
    if problem:
        raise ValueError(problem)
    if debug is None:
        debug = os.environ.get(names.env("TELEMETRY_DEBUG"), "") not in ("", "0")
    moment = now or datetime.now(UTC)
    folder = _folder(root, names)
    if not folder.is_dir():
        return []
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            return []  # another upload step is at work
        results = []
        due, dropped = due_weeks(root, names, share_since, moment)
        for week in dropped:
            result = UploadResult(week, 0, "dropped")
            if not debug:
                _record(root, names, result, url, moment)
            results.append(result)
        for week in due:
            try:
                prepared = prepare_week(root, names, week=week, share_since=share_since, now=moment)
            except ShareRefusedError as exc:
                results.append(UploadResult(week, 0, f"not prepared: {exc}"))
                continue
            sha = hashlib.sha256(prepared.blob).hexdigest()
            report_id = str(prepared.report.get("report_id", ""))
            if debug:
                if say is not None:
                    say(f"would upload {week} ({len(prepared.blob)} bytes, sha256 {sha}) to {url}")
                    say(prepared.blob.decode("ascii"))
                results.append(UploadResult(week, 0, "debug: not sent", sha, report_id))
                continue
            if not prepared.reprint:
                record_week(root, prepared, file_name=f"upload:{week}", names=names, now=moment)
            status, reason = _post(url, prepared.blob)
            result = UploadResult(week, status, reason, sha, report_id)
            _record(root, names, result, url, moment)
            results.append(result)
        return results
    finally:
        os.close(fd)
