"""The collector: an HTTP service that receives share reports and publishes the org answers.

    POST /v1/reports   one share report (the exact bytes `report --share --preview` shows)
    GET  /v1/insights  the org answers as JSON, thresholds applied
    GET  /             the org dashboard page (no JavaScript)
    GET  /healthz      "ok" while the store answers

It is a plain ASGI application (no web framework: four routes do not need one),
served by uvicorn (see `serve`). Every report goes through the same checks as
`org ingest` (`org.ingest.parse_report`: size cap, strict JSON, the share
schema and its allow-list of cells), and the same load (`org.ingest.ingest`:
all or nothing, duplicates refused).

Exactly once. One writer thread owns the store: the uploads that arrive
together form a group, screened at once (`org.ingest.screen`: a reused report
id or a second report of a week by one contributor is refused with 409, the
same report again is answered `200 already stored`), and the good ones are
appended to a spool file with one fsync before each is answered `202
accepted`. The spool is loaded into the store in large loads (all or none) and
then emptied; a collector killed at any point loads the spool again at its
next start, and the store refuses what was already loaded. So no answered
report is lost, none is counted twice, a retry never stores twice, and the
store sees few large loads however many clients each upload one report.
That is also why a collector is ONE process per database: two processes on
one ClickHouse database could both accept the same report (ClickHouse has no
unique keys). One process is plenty: its cost per report is the bulk insert.

Nothing about the sender is kept. The app reads no request header but
`content-type` and `content-length`, never the client address, and uvicorn is
started without its access log and without proxy-header parsing (`serve`).
A full queue answers 503 with `Retry-After`, the only back-pressure there is.
"""

from __future__ import annotations

import asyncio
import json
import os
import queue
import re
import threading
import time
from collections.abc import Awaitable, Callable, MutableMapping
from concurrent.futures import Future
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from flowspec_telemetry.core._files import write_all
from flowspec_telemetry.org.backends import Store, StoreError, Target, open_store
from flowspec_telemetry.org.ingest import (
    MAX_BYTES,
    Accepted,
    Rejected,
    ingest,
    parse_report,
    screen,
)

__all__ = ["Collector", "CollectorConfig", "serve"]

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

QUEUE_LIMIT: Final = 20_000  # pending jobs; past it, 503 + Retry-After
BATCH_MAX: Final = 1000  # reports in one load at the most (a load blocks new uploads)
BATCH_WAIT_S: Final = 0.005  # how long the writer waits for more uploads to join a group
LOAD_WAIT_S: Final = 0.5  # spooled reports are loaded after this long without an upload
INSIGHTS_TTL_S: Final = 5.0  # answers are recomputed at most this often (and after a load)


@dataclass(frozen=True, slots=True)
class CollectorConfig:
    """What a collector serves and how much it accepts."""

    target: Target
    k: int = 5  # the org threshold: contributors (weekly reports) or summed counts (older)
    max_body: int = MAX_BYTES
    queue_limit: int = QUEUE_LIMIT
    batch_max: int = BATCH_MAX
    batch_wait_s: float = BATCH_WAIT_S
    load_wait_s: float = LOAD_WAIT_S
    spool: str | None = None  # default: beside a DuckDB file, else in the current folder

    @property
    def spool_path(self) -> str:
        """Where acknowledged, not yet loaded reports wait (see `_Spool`)."""
        if self.spool:
            return self.spool
        if self.target.path is not None:
            return str(self.target.path) + ".spool"
        return f"collector-{self.target.database}.spool"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What one POST gets back: an HTTP status and a one-line reason."""

    status: int
    state: str  # accepted | duplicate | rejected | unavailable
    reason: str


class _Job:
    __slots__ = ("future", "kind", "payload")

    def __init__(self, kind: str, payload: Any) -> None:
        self.kind = kind
        self.payload = payload
        self.future: Future[Any] = Future()


_ACCEPTED: Final = Outcome(202, "accepted", "accepted: counted from the next load on")
_ALREADY: Final = Outcome(200, "duplicate", "already stored")
_OTHER_REPORT: Final = Outcome(409, "rejected", "another report with this id is stored")
_HEX32: Final = re.compile(r"[0-9a-f]{32}")


class _Spool:
    """Reports acknowledged but not loaded yet: an append-only file, fsynced per group.

    An upload is answered only once its report is in this file, so a crash
    between the answer and the load loses nothing: the next start loads what the
    file holds (`ingest` refuses what was loaded already), then empties it. A
    line torn by a crash was never answered, and is skipped.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        flags = os.O_RDWR | os.O_APPEND | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC
        self.fd = os.open(path, flags, 0o600)

    def append(self, lines: list[bytes]) -> None:
        write_all(self.fd, b"".join(line + b"\n" for line in lines))
        os.fsync(self.fd)

    def read(self) -> list[bytes]:
        chunks = []
        offset = 0
        while chunk := os.pread(self.fd, 1 << 20, offset):
            chunks.append(chunk)
            offset += len(chunk)
        whole = b"".join(chunks)
        return [line for line in whole.split(b"\n")[:-1] if line]  # the last piece is torn

    def clear(self) -> None:
        os.ftruncate(self.fd, 0)
        os.fsync(self.fd)

    def close(self) -> None:
        os.close(self.fd)


def _canonical(report: dict[str, Any]) -> bytes:
    return json.dumps(report, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


class _Writer:
    """The one thread that touches the store and the spool.

    Each group of uploads that arrived together is screened (duplicates and
    conflicts, against the store and against what is spooled), the good ones
    are appended to the spool with one fsync and answered `202`; the spool is
    loaded into the store in large loads (`batch_max` reports, or after
    `load_wait_s` of quiet, or before answering a query). So the store sees few,
    large, all-or-nothing loads however many clients upload one report each.
    """

    def __init__(self, config: CollectorConfig) -> None:
        self.config = config
        self.jobs: queue.Queue[_Job | None] = queue.Queue(maxsize=config.queue_limit)
        self.store: Store | None = None
        self.spool: _Spool | None = None
        self.thread = threading.Thread(target=self._run, name="collector-writer", daemon=True)
        self.ready: Future[None] = Future()
        self._insights: tuple[float, dict[str, Any]] | None = None
        self._unloaded: list[Accepted] = []
        self._ids: dict[str, str] = {}  # spooled report id -> its canonical SHA-256
        self._pairs: set[tuple[str, str]] = set()
        self._shas: set[str] = set()

    def start(self) -> None:
        """Open the store in the writer thread; raises `StoreError` when it cannot."""
        if not self.thread.is_alive() and not self.ready.done():
            self.thread.start()
        self.ready.result()

    def stop(self) -> None:
        self.jobs.put(None)
        self.thread.join(timeout=60)

    @property
    def _store(self) -> Store:
        if self.store is None:  # pragma: no cover - jobs run only after the store opened
            raise RuntimeError("the collector's store is not open")
        return self.store

    def submit(self, kind: str, payload: Any) -> Future[Any] | None:
        job = _Job(kind, payload)
        try:
            self.jobs.put_nowait(job)
        except queue.Full:
            return None
        return job.future

    # ---------------------------------------------------------------- thread

    def _run(self) -> None:
        try:
            self.store = open_store(self.config.target, read_only=False)
            self.store.create_schema()
            self.spool = _Spool(self.config.spool_path)
            self._replay()
        except (StoreError, OSError) as exc:
            if self.store is not None:
                self.store.close()
            self.ready.set_exception(
                exc if isinstance(exc, StoreError) else StoreError(f"spool: {exc}")
            )
            return
        self.ready.set_result(None)
        try:
            while True:
                try:
                    job = self.jobs.get(timeout=self.config.load_wait_s if self._unloaded else None)
                except queue.Empty:
                    self._flush()
                    continue
                if job is None:
                    return
                if job.kind == "report":
                    self._accept(self._more_reports(job))
                    if len(self._unloaded) >= self.config.batch_max:
                        self._flush()
                else:
                    self._answer(job)
        finally:
            self._flush()
            self.spool.close()
            self.store.close()

    def _replay(self) -> None:
        """Load what a previous run acknowledged but did not load."""
        assert self.spool is not None  # noqa: S101 - set just before
        items = []
        for i, line in enumerate(self.spool.read()):
            checked = parse_report(f"spooled {i}", line)
            if isinstance(checked, Accepted):
                items.append(checked)
        if items:
            ingest(self._store, items)  # what was loaded before comes back refused: fine
        self.spool.clear()

    def _more_reports(self, first: _Job) -> list[_Job]:
        """The first report and whatever reports arrive within the group window."""
        group = [first]
        deadline = time.monotonic() + self.config.batch_wait_s
        while len(group) < self.config.batch_max:
            try:
                job = self.jobs.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                break
            if job is None:
                self.jobs.put(None)  # stop after this group
                break
            if job.kind != "report":
                self._answer(job)
                continue
            group.append(job)
        return group

    def _spooled_refusal(self, item: Accepted) -> Outcome | None:
        if item.weekly:
            week = str(item.report["period"]["iso_week"])
            spooled = self._ids.get(str(item.report["report_id"]))
            if spooled is not None:
                return _ALREADY if spooled == item.sha256 else _OTHER_REPORT
            if (str(item.report["contributor"]), week) in self._pairs:
                return Outcome(
                    409,
                    "rejected",
                    f"a second report for {week} from the same contributor: "
                    "one report per person and week is ingested",
                )
        elif item.sha256 in self._shas:
            return _ALREADY
        return None

    def _refusal(self, item: Accepted, reason: str) -> Outcome:
        """A refusal by `screen`: the same report again (200), or a conflict (409)."""
        if not reason.startswith("duplicate"):
            return Outcome(409, "rejected", reason)
        if not item.weekly or self._stored_sha(str(item.report["report_id"])) == item.sha256:
            return _ALREADY
        return _OTHER_REPORT

    def _stored_sha(self, report_id: str) -> str | None:
        if not _HEX32.fullmatch(report_id):  # validated already; never put other text in SQL
            return None
        rows = self._store.query(
            "SELECT report_sha256 FROM org_weekly_reports WHERE report_id = "
            f"'{report_id}' AND load_id IN (SELECT load_id FROM org_loads)"
        )
        return str(rows[0][0]) if rows else None

    def _accept(self, group: list[_Job]) -> None:
        # The name of an item is its position, so each outcome finds its request.
        items = [Accepted(str(i), j.payload.sha256, j.payload.report) for i, j in enumerate(group)]
        outcomes: dict[int, Outcome] = {}
        candidates = []
        for item in items:
            refusal = self._spooled_refusal(item)
            if refusal is None:
                candidates.append(item)
            else:
                outcomes[int(item.name)] = refusal
        try:
            fresh, rejected = screen(self._store, candidates)
            for r in rejected:
                outcomes[int(r.name)] = (
                    _ALREADY
                    if r.reason.startswith("duplicate")
                    else Outcome(409, "rejected", r.reason)
                )
            if fresh:
                assert self.spool is not None  # noqa: S101 - opened before the loop
                self.spool.append([_canonical(item.report) for item in fresh])
        except (StoreError, OSError) as exc:
            for job in group:
                job.future.set_result(Outcome(503, "unavailable", f"not accepted: {exc}"))
            return
        except Exception as exc:  # a bug must not kill the writer
            for job in group:
                job.future.set_result(Outcome(500, "unavailable", f"internal error: {exc!r}"))
            return
        for item in fresh:
            self._unloaded.append(item)
            if item.weekly:
                self._ids[str(item.report["report_id"])] = item.sha256
                week = str(item.report["period"]["iso_week"])
                self._pairs.add((str(item.report["contributor"]), week))
            else:
                self._shas.add(item.sha256)
            outcomes[int(item.name)] = _ACCEPTED
        for i, job in enumerate(group):
            job.future.set_result(outcomes[i])

    def _flush(self) -> None:
        """Load the spooled reports as one load; on failure keep them for the next try."""
        if not self._unloaded:
            return
        try:
            ingest(self._store, self._unloaded)
            assert self.spool is not None  # noqa: S101 - opened before the loop
            self.spool.clear()
        except (StoreError, OSError):
            return  # kept in the spool and in memory: tried again after the next wait
        self._unloaded, self._ids, self._pairs, self._shas = [], {}, set(), set()
        self._insights = None

    def _answer(self, job: _Job) -> None:
        try:
            if job.kind == "insights":
                self._flush()  # answers count every report acknowledged so far
                job.future.set_result(self._cached_insights())
            elif job.kind == "health":
                self._store.has_schema()
                job.future.set_result(True)
            else:  # pragma: no cover - the app submits only the kinds above
                job.future.set_exception(ValueError(job.kind))
        except Exception as exc:
            job.future.set_exception(exc)

    def _cached_insights(self) -> dict[str, Any]:
        from flowspec_telemetry.org.answers import answers

        now = time.monotonic()
        if self._insights is None or now - self._insights[0] > INSIGHTS_TTL_S:
            data = answers(self._store, k=self.config.k, weekly_only=True, week_by_week=True)
            self._insights = (now, data)
        return self._insights[1]


# ------------------------------------------------------------------ the app


@dataclass(frozen=True, slots=True)
class _Response:
    status: int
    ctype: bytes
    body: bytes
    extra: tuple[tuple[bytes, bytes], ...] = ()


def _json(status: int, body: dict[str, Any], *extra: tuple[bytes, bytes]) -> _Response:
    blob = json.dumps(body, ensure_ascii=False).encode("utf-8")
    return _Response(status, b"application/json", blob, extra)


def _text(status: int, text: str) -> _Response:
    return _Response(status, b"text/plain; charset=utf-8", text.encode("utf-8"))


_RETRY_LATER: Final = (b"retry-after", b"60")
_ROUTES: Final = {
    "/v1/reports": ("POST",),
    "/v1/insights": ("GET", "HEAD"),
    "/": ("GET", "HEAD"),
    "/healthz": ("GET", "HEAD"),
}


class Collector:
    """The ASGI application. Start it with a lifespan-capable server (uvicorn)."""

    def __init__(self, config: CollectorConfig) -> None:
        self.config = config
        self.writer = _Writer(config)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        response = await self._route(scope, receive)
        headers = [
            (b"content-type", response.ctype),
            (b"content-length", str(len(response.body)).encode()),
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
            *response.extra,
        ]
        await send({"type": "http.response.start", "status": response.status, "headers": headers})
        body = b"" if scope["method"] == "HEAD" else response.body
        await send({"type": "http.response.body", "body": body})

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                try:
                    await asyncio.to_thread(self.writer.start)
                except StoreError as exc:
                    await send({"type": "lifespan.startup.failed", "message": str(exc)})
                    return
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await asyncio.to_thread(self.writer.stop)
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _route(self, scope: Scope, receive: Receive) -> _Response:
        path, method = scope["path"], scope["method"]
        if path not in _ROUTES:
            return _json(404, {"error": f"no such endpoint: {path[:100]}"})
        if method not in _ROUTES[path]:
            allow = ", ".join(_ROUTES[path])
            return _json(405, {"error": f"{path} takes {allow}"}, (b"allow", allow.encode()))
        if path == "/v1/reports":
            outcome = await self._post_report(scope, receive)
            extra = (_RETRY_LATER,) if outcome.status == 503 else ()
            return _json(
                outcome.status, {"status": outcome.state, "reason": outcome.reason}, *extra
            )
        if path == "/healthz":
            healthy = await self._ask("health") is True
            return _text(200, "ok\n") if healthy else _text(503, "store unavailable\n")
        data = await self._ask("insights")
        if not isinstance(data, dict):
            return _json(503, {"error": "the store is not answering"}, _RETRY_LATER)
        if path == "/v1/insights":
            return _json(200, data)
        from flowspec_telemetry.org.answers import render_page

        now = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
        page = render_page(data, generated_at=now)
        return _Response(200, b"text/html; charset=utf-8", page.encode("utf-8"))

    async def _ask(self, kind: str) -> Any:
        future = self.writer.submit(kind, None)
        if future is None:
            return None
        try:
            return await asyncio.wrap_future(future)
        except Exception:
            return None

    async def _post_report(self, scope: Scope, receive: Receive) -> Outcome:
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"").split(b";")[0].strip().lower()
        if ctype != b"application/json":
            return Outcome(415, "rejected", "send the report as application/json")
        declared = headers.get(b"content-length")
        if declared is not None and (
            not declared.isdigit() or int(declared) > self.config.max_body
        ):
            return Outcome(413, "rejected", f"larger than {self.config.max_body} bytes")
        blob = bytearray()
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return Outcome(400, "rejected", "the client went away")
            blob += message.get("body", b"")
            if len(blob) > self.config.max_body:
                return Outcome(413, "rejected", f"larger than {self.config.max_body} bytes")
            if not message.get("more_body"):
                break
        checked = parse_report("upload", bytes(blob))
        if isinstance(checked, Rejected):
            return Outcome(400, "rejected", checked.reason)
        if not checked.weekly:  # uploads are weekly; older files go through `org ingest`
            return Outcome(
                400, "rejected", "the collector takes weekly share reports (format '2') only"
            )
        future = self.writer.submit("report", checked)
        if future is None:
            return Outcome(503, "unavailable", "the collector is busy; try again later")
        result: Outcome = await asyncio.wrap_future(future)
        return result


# ---------------------------------------------------------------- serving


def serve(
    config: CollectorConfig,
    *,
    host: str = "127.0.0.1",
    port: int = 8737,
    announce: Callable[[str], None] = print,
) -> None:
    """Serve the collector with uvicorn until interrupted (SIGINT/SIGTERM).

    Binds the socket itself, so `port=0` picks a free port and `announce`
    gets the real URL before the first request can arrive.
    """
    import socket

    import uvicorn

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    bound = sock.getsockname()[1]
    shown = f"[{host}]" if family == socket.AF_INET6 else host
    app = Collector(config)
    app.writer.start()  # a store that cannot be opened is one clear error, before listening
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            lifespan="on",
            access_log=False,  # it would log every client's address
            proxy_headers=False,  # nor read X-Forwarded-For
            server_header=False,
            log_level="warning",
            timeout_keep_alive=5,
        )
    )

    async def run() -> None:
        async def say_when_ready() -> None:
            while not server.started:
                if server.should_exit:
                    return
                await asyncio.sleep(0.01)
            announce(
                f"Collector listening on http://{shown}:{bound} (store: {config.target.label})"
            )

        ready = asyncio.create_task(say_when_ready())
        await server.serve(sockets=[sock])
        ready.cancel()

    asyncio.run(run())
