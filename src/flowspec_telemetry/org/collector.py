"""The collector: an HTTP service that takes weekly share reports and answers over them.

A plain ASGI application (no web framework: four routes), served by uvicorn
(`collector serve`), over the same org store as `org ingest` (a DuckDB file,
or ClickHouse):

- `POST /v1/reports`: one weekly share report (format 2) as the body, at most
  `ingest.MAX_BYTES`. It is parsed and checked exactly as `org ingest` checks
  a file (the share schema, the allow-list of cells, the bounds), then
  loaded as one load. 201 when stored; 200 when that very report (same id,
  same bytes' canonical SHA-256) is already stored, so a client may retry
  freely; 400 for anything invalid, 409 for a second report of one week
  from the same contributor, 413 when too large, each with a one-line
  reason. Nothing of a refused report is stored.
- `GET /v1/insights`: the org answers as JSON (`org.weekly.weekly_insights`,
  thresholds and difference checks applied).
- `GET /`: the org dashboard page (`org.weekly_html`), no script.
- `GET /healthz`: "ok".

Privacy of the service itself: it never reads the client address or any
request header but `content-length`, keeps no access log (uvicorn's is
turned off), and stores only what the report holds. All store work runs in
one worker thread under one lock, so the once-per-id and once-per-week rules
hold under concurrent uploads (run one process per DuckDB file).
"""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any, Final

from flowspec_telemetry.org.backends import Store, StoreError, Target, open_store
from flowspec_telemetry.org.ingest import MAX_BYTES, Accepted, ingest, parse_report
from flowspec_telemetry.org.weekly import per_week, weekly_insights
from flowspec_telemetry.org.weekly_html import render_weekly_html
from flowspec_telemetry.report import weekly

__all__ = ["Collector"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

_JSON: Final = (b"content-type", b"application/json")
_TEXT: Final = (b"content-type", b"text/plain; charset=utf-8")
_HTML: Final = (b"content-type", b"text/html; charset=utf-8")
_NOSNIFF: Final = (b"x-content-type-options", b"nosniff")


class Collector:
    """The ASGI app. `Collector(target)`; the store is opened on first use and kept."""

    def __init__(self, target: Target, *, k: int = weekly.DEFAULT_MIN_CONTRIBUTORS) -> None:
        self.target = target
        self.k = k
        self._lock = threading.Lock()
        self._store: Store | None = None

    # ------------------------------------------------------------ the store

    def _open(self) -> Store:
        if self._store is None:
            store = open_store(self.target, read_only=False)
            store.create_schema()
            self._store = store
        return self._store

    def _take(self, blob: bytes) -> tuple[int, dict[str, Any]]:
        """Check and store one upload: (HTTP status, JSON body)."""
        checked = parse_report("upload", blob)
        if not isinstance(checked, Accepted):
            return 400, {"status": "refused", "reason": checked.reason}
        if not checked.weekly:
            return 400, {
                "status": "refused",
                "reason": "the collector takes weekly share reports (format '2') only",
            }
        rid = checked.report["report_id"]
        with self._lock:
            store = self._open()
            result = ingest(store, [checked])
        if result.loaded:
            return 201, {"status": "stored", "report_id": rid}
        reason = result.rejected[0].reason if result.rejected else "not stored"
        if reason.startswith("duplicate"):
            if self._same_report(rid, checked.sha256):
                return 200, {"status": "already stored", "report_id": rid}
            return 409, {"status": "refused", "reason": "another report with this id is stored"}
        return 409, {"status": "refused", "reason": reason}

    def _same_report(self, rid: str, sha: str) -> bool:
        """Whether the stored report of this id has the same content (an honest retry)."""
        with self._lock:
            rows = self._open().query(
                "SELECT COUNT(*) FROM org_weekly_reports WHERE report_id = "
                f"'{rid}' AND report_sha256 = '{sha}' "
                "AND load_id IN (SELECT load_id FROM org_loads)"
            )
        return bool(rows and rows[0][0])

    def _answers(self) -> dict[str, Any]:
        with self._lock:
            return weekly_insights(self._open(), k=self.k)

    def _page(self) -> str:
        with self._lock:
            store = self._open()
            data = weekly_insights(store, k=self.k)
            weeks = per_week(store, k=self.k)
        stamp = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        return render_weekly_html(data, generated_at=stamp, weeks=weeks)

    def close(self) -> None:
        with self._lock:
            if self._store is not None:
                self._store.close()
                self._store = None

    # ------------------------------------------------------------------ HTTP

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        method, path = scope["method"], scope["path"]
        try:
            if path == "/healthz" and method in ("GET", "HEAD"):
                await _reply(send, 200, b"ok\n", _TEXT)
            elif path == "/v1/reports" and method == "POST":
                await self._post(scope, receive, send)
            elif path == "/v1/insights" and method == "GET":
                data = await asyncio.to_thread(self._answers)
                await _reply(send, 200, json.dumps(data).encode(), _JSON)
            elif path == "/" and method == "GET":
                page = await asyncio.to_thread(self._page)
                await _reply(send, 200, page.encode("utf-8"), _HTML)
            elif path in ("/", "/healthz", "/v1/reports", "/v1/insights"):
                await _reply(send, 405, b"method not allowed\n", _TEXT)
            else:
                await _reply(send, 404, b"not found\n", _TEXT)
        except StoreError as exc:
            await _reply(send, 503, _body("unavailable", f"the store failed: {exc}"), _JSON)

    async def _post(self, scope: Scope, receive: Receive, send: Send) -> None:
        declared = _content_length(scope)
        if declared is not None and declared > MAX_BYTES:
            await _reply(send, 413, _body("refused", "larger than the size cap"), _JSON)
            return
        chunks: list[bytes] = []
        size = 0
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                return
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_BYTES:
                await _reply(send, 413, _body("refused", "larger than the size cap"), _JSON)
                return
            chunks.append(chunk)
            more = bool(message.get("more_body"))
        status, body = await asyncio.to_thread(self._take, b"".join(chunks))
        await _reply(send, status, json.dumps(body).encode(), _JSON)

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.close)
                await send({"type": "lifespan.shutdown.complete"})
                return


def _content_length(scope: Scope) -> int | None:
    for key, value in scope.get("headers", []):
        if key == b"content-length":
            try:
                return int(value)
            except ValueError:
                return None
    return None


def _body(status: str, reason: str) -> bytes:
    return json.dumps({"status": status, "reason": reason}).encode()


async def _reply(send: Send, status: int, body: bytes, kind: tuple[bytes, bytes]) -> None:
    headers = [
        kind,
        _NOSNIFF,
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
