"""A throwaway ClickHouse server on free loopback ports, for the tests and the benchmark.

Standard library only (readiness is polled on the HTTP `/ping` endpoint), so
the benchmark harness can load this file too. The server gets its own folder:
config.xml, users.xml, data, tmp, user files and logs all live in it; it
listens on 127.0.0.1 only, and the only user may connect from 127.0.0.1 only.
Debian's package installs `/usr/sbin/clickhouse-server`; newer releases ship
one `clickhouse` binary run as `clickhouse server`.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import signal
import socket
import subprocess
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

HOST = "127.0.0.1"

CONFIG = """<?xml version="1.0"?>
<yandex>
    <logger>
        <level>warning</level>
        <log>{root}/log/server.log</log>
        <errorlog>{root}/log/server.err.log</errorlog>
        <size>10M</size>
        <count>1</count>
    </logger>
    <listen_host>127.0.0.1</listen_host>
    <tcp_port>{tcp_port}</tcp_port>
    <http_port>{http_port}</http_port>
    <interserver_http_port>{interserver_port}</interserver_http_port>
    <interserver_http_host>127.0.0.1</interserver_http_host>
    <path>{root}/data/</path>
    <tmp_path>{root}/tmp/</tmp_path>
    <user_files_path>{root}/user_files/</user_files_path>
    <format_schema_path>{root}/format_schemas/</format_schema_path>
    <users_config>{root}/users.xml</users_config>
    <default_profile>default</default_profile>
    <default_database>default</default_database>
    <mark_cache_size>67108864</mark_cache_size>
    <uncompressed_cache_size>67108864</uncompressed_cache_size>
    <max_concurrent_queries>20</max_concurrent_queries>
    <mlock_executable>false</mlock_executable>
</yandex>
"""

USERS = """<?xml version="1.0"?>
<yandex>
    <profiles><default><max_memory_usage>2000000000</max_memory_usage></default></profiles>
    <users>
        <default>
            <password></password>
            <networks><ip>127.0.0.1</ip></networks>
            <profile>default</profile>
            <quota>default</quota>
        </default>
    </users>
    <quotas><default><interval><duration>3600</duration><queries>0</queries><errors>0</errors>
    <result_rows>0</result_rows><read_rows>0</read_rows><execution_time>0</execution_time>
    </interval></default></quotas>
</yandex>
"""


class ServerUnavailableError(RuntimeError):
    """ClickHouse is not installed or would not start; the message says which."""


def server_command() -> list[str] | None:
    """How to start a server here: `clickhouse-server`, or `clickhouse server`."""
    for candidate in (
        shutil.which("clickhouse-server"),
        "/usr/sbin/clickhouse-server",
        "/usr/bin/clickhouse-server",
    ):
        if candidate and os.access(candidate, os.X_OK):
            return [candidate]
    single = shutil.which("clickhouse")
    return [single, "server"] if single else None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass(slots=True)
class Server:
    root: Path
    tcp_port: int
    http_port: int
    process: subprocess.Popen[bytes]

    def url(self, database: str) -> str:
        return f"clickhouse://{HOST}:{self.tcp_port}/{database}"

    def stop(self) -> None:
        """Terminate, then kill if it lingers; always reaps the process."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=15)

    def errors(self) -> str:
        text = ""
        for name in ("log/server.err.log", "stderr.txt"):
            with contextlib.suppress(OSError):
                text += (self.root / name).read_text(errors="replace")[-2000:]
        return text


def _ready(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/ping", timeout=1) as resp:
            return bool(resp.read().startswith(b"Ok"))
    except OSError:
        return False


def start(root: Path, *, timeout: float = 30.0) -> Server:
    """Start a server whose every file lives under `root`; raise ServerUnavailableError if it cannot."""
    command = server_command()
    if command is None:
        raise ServerUnavailableError(
            "clickhouse-server is not installed (Debian: apt-get install clickhouse-server; "
            "scripts/test installs it)"
        )
    for sub in ("log", "data", "tmp", "user_files", "format_schemas"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    ports = {"tcp_port": free_port(), "http_port": free_port(), "interserver_port": free_port()}
    (root / "config.xml").write_text(CONFIG.format(root=root, **ports))
    (root / "users.xml").write_text(USERS)
    with (root / "stderr.txt").open("wb") as errfile:
        process = subprocess.Popen(
            [*command, f"--config-file={root / 'config.xml'}"],
            cwd=root,
            stdin=subprocess.DEVNULL,
            stdout=errfile,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    server = Server(root, ports["tcp_port"], ports["http_port"], process)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerUnavailableError(
                f"clickhouse-server exited with {process.returncode}: {server.errors()[-300:]}"
            )
        if _ready(server.http_port):
            return server
        time.sleep(0.1)
    server.stop()
    raise ServerUnavailableError(f"clickhouse-server not ready within {timeout:.0f} s")


_shared: Server | None = None
_shared_failure: str | None = None


def shared(root: Path) -> Server:
    """One server per process, however many fixtures ask (each test package has one).

    Stopped by `stop_shared` (the session fixtures' teardown) or, as a last
    resort, at interpreter exit. A failed start is remembered, not retried.
    """
    global _shared, _shared_failure
    if _shared_failure is not None:
        raise ServerUnavailableError(_shared_failure)
    if _shared is None:
        try:
            _shared = start(root)
        except ServerUnavailableError as exc:
            _shared_failure = str(exc)
            raise
        atexit.register(_shared.stop)
    return _shared


def stop_shared() -> None:
    if _shared is not None:
        _shared.stop()
