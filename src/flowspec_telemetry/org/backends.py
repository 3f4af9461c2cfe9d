"""The two stores behind `--db`: a DuckDB file (default) or a ClickHouse server.

`--db PATH` is a DuckDB database file (created by the first `ingest`, mode
0600; its folder must exist). `--db clickhouse://[user[:password]@]host[:port]/db`
is a ClickHouse server spoken to over its native protocol (clickhouse-driver,
port 9000 by default; the password may also come from
`FLOWSPEC_CLICKHOUSE_PASSWORD`); `ingest` creates the database and tables.

Both stores offer the same small interface: `query(sql)`, `insert(table,
rows)` (rows in the column order of `schema.TABLES`), `begin`/`commit`/
`rollback` (no-ops on ClickHouse, which has none: see `schema` for how a
half-done load stays invisible), `has_schema()`, `create_schema()` and
`close()`. The drivers are imported only here, when a store is opened.
Errors become `StoreError` with one short line that never holds a password.
"""

from __future__ import annotations

import contextlib
import csv
import io
import os
import re
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, Final, Protocol
from urllib.parse import SplitResult, unquote, urlsplit

from flowspec_telemetry.core._files import write_private
from flowspec_telemetry.core.errors import StoreError
from flowspec_telemetry.org._schema import TABLES, Dialect, columns, create_statements, sql_type

__all__ = [
    "CLICKHOUSE_PORT",
    "PASSWORD_ENV",
    "ClickHouseStore",
    "DuckDBStore",
    "Store",
    "StoreError",
    "Target",
    "check_target",
    "open_store",
    "parse_target",
]

CLICKHOUSE_PORT: Final = 9000
PASSWORD_ENV: Final = "FLOWSPEC_CLICKHOUSE_PASSWORD"  # noqa: S105 - a variable name
_DB_NAME: Final = re.compile(r"^[A-Za-z_][A-Za-z0-9_]{0,63}$")
_MAX_MESSAGE: Final = 200


class Store(Protocol):
    dialect: Dialect
    label: str

    def query(self, sql: str) -> list[tuple[Any, ...]]: ...
    def insert(self, table: str, rows: Sequence[Sequence[Any]]) -> None: ...
    def has_schema(self) -> bool: ...
    def create_schema(self) -> None: ...
    def begin(self) -> None: ...
    def commit(self) -> None: ...
    def rollback(self) -> None: ...
    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class Target:
    """Where `--db` points: a DuckDB file or a ClickHouse database."""

    dialect: Dialect
    path: Path | None = None
    host: str = ""
    port: int = CLICKHOUSE_PORT
    database: str = ""
    user: str = "default"
    password: str = ""

    @property
    def label(self) -> str:
        """How messages name the store (never with the password)."""
        if self.dialect == "duckdb":
            return str(self.path)
        return f"clickhouse://{self.host}:{self.port}/{self.database}"


def parse_target(db: str) -> Target:
    """Read `--db`: a file path, or `clickhouse://host:port/db`."""
    if not db:
        raise StoreError("--db must name a DuckDB file or clickhouse://host:port/db", usage=True)
    if "://" not in db:
        return Target("duckdb", path=Path(db))
    parts = urlsplit(db)
    if parts.scheme != "clickhouse":
        raise StoreError(
            f"unsupported --db URL scheme {parts.scheme!r:.20}: give a DuckDB file path "
            "or clickhouse://host:port/db",
            usage=True,
        )
    return _clickhouse_target(parts)


def _clickhouse_target(parts: SplitResult) -> Target:
    try:
        port = parts.port or CLICKHOUSE_PORT
    except ValueError:
        raise StoreError("--db: the ClickHouse port must be a number", usage=True) from None
    host = parts.hostname or ""
    if not host:
        raise StoreError("--db: clickhouse://host:port/db needs a host", usage=True)
    database = parts.path.strip("/") or "default"
    if not _DB_NAME.match(database):
        raise StoreError(
            "--db: the ClickHouse database name must be letters, digits and _", usage=True
        )
    return Target(
        "clickhouse",
        host=host,
        port=port,
        database=database,
        user=unquote(parts.username or "") or "default",
        password=unquote(parts.password or "") or os.environ.get(PASSWORD_ENV, ""),
    )


def check_target(target: Target, *, must_exist: bool) -> None:
    """Refuse a DuckDB path that cannot be used, before any work."""
    if target.path is None:
        return
    path = target.path
    # DuckDB opens (and creates) what a link points at, and writes `<file>.wal`
    # beside it: a link planted at either would send the org's data elsewhere
    # (a dangling one would create a file wherever it points). Refused, like
    # every file the local store writes.
    for candidate in (path, path.with_name(path.name + ".wal")):
        if candidate.is_symlink():
            raise StoreError(
                f"--db {candidate} is a symbolic link; refusing to open a database through it",
                usage=True,
            )
    if not path.parent.is_dir():
        raise StoreError(f"--db {path}: the folder {path.parent} does not exist", usage=True)
    if path.is_dir():
        raise StoreError(f"--db {path} is a folder, not a database file", usage=True)
    if must_exist and not path.exists():
        raise StoreError(f"no org database at {path}: load share reports with `org ingest` first")


def open_store(target: Target, *, read_only: bool) -> Store:
    """Connect to the store (`read_only` for DuckDB lets readers share the file)."""
    if target.dialect == "duckdb":
        return DuckDBStore.open(target, read_only=read_only)
    return ClickHouseStore.open(target, create=not read_only)


def _short(exc: BaseException, password: str = "") -> str:
    """An engine error as one short line (ClickHouse appends a stack trace)."""
    text = str(exc).split("Stack trace", 1)[0]
    if password:
        text = text.replace(password, "***")
    text = " ".join(text.split())
    return text if len(text) <= _MAX_MESSAGE else text[: _MAX_MESSAGE - 1] + "…"


# ------------------------------------------------------------------- DuckDB


class DuckDBStore:
    """A DuckDB file. Bulk inserts go through a private CSV file and `read_csv` (fast)."""

    dialect: Dialect = "duckdb"

    def __init__(self, con: Any, label: str, errors: tuple[type[BaseException], ...]) -> None:
        self.con = con
        self.label = label
        self._errors = errors

    @classmethod
    def open(cls, target: Target, *, read_only: bool) -> DuckDBStore:
        try:
            import duckdb
        except ImportError:
            raise StoreError(
                "the org commands need DuckDB: pip install 'flowspec-telemetry[org]'"
            ) from None
        assert target.path is not None  # noqa: S101 - a duckdb target always has a path
        new = not target.path.exists()
        try:
            con = duckdb.connect(str(target.path), read_only=read_only)
        except duckdb.Error as exc:
            raise StoreError(
                f"cannot open {target.path} as a DuckDB database: {_short(exc)}"
            ) from None
        if new:
            with contextlib.suppress(OSError):
                os.chmod(target.path, 0o600)
        return cls(con, str(target.path), (duckdb.Error,))

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return list(self.con.execute(sql).fetchall())
        except self._errors as exc:
            raise StoreError(f"{self.label}: {_short(exc)}") from None

    def insert(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        cols = TABLES[table]
        with tempfile.TemporaryDirectory(prefix="flowspec-org-") as tmp:
            path = Path(tmp) / "rows.csv"
            text = io.StringIO(newline="")
            csv.writer(text).writerows(rows)
            write_private(path, text.getvalue().encode("utf-8"), replace=False)
            types = ", ".join(f"'{name}': '{sql_type('duckdb', kind)}'" for name, kind in cols)
            select = ", ".join(
                f"COALESCE({name}, '')" if kind == "String" else name for name, kind in cols
            )
            source = str(path).replace("'", "''")
            sql = (
                f"INSERT INTO {table} ({', '.join(columns(table))}) SELECT {select} FROM "
                f"read_csv('{source}', header = false, auto_detect = false, delim = ',', "
                f"quote = '\"', escape = '\"', columns = {{{types}}})"
            )
            self.query(sql)

    def has_schema(self) -> bool:
        rows = self.query(
            "SELECT COUNT(*) FROM information_schema.tables WHERE table_name = 'org_loads'"
        )
        return bool(rows and rows[0][0])

    def create_schema(self) -> None:
        for statement in create_statements("duckdb"):
            self.query(statement)

    def begin(self) -> None:
        self.query("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.query("COMMIT")

    def rollback(self) -> None:
        with contextlib.suppress(StoreError):
            self.query("ROLLBACK")

    def close(self) -> None:
        with contextlib.suppress(*self._errors):
            self.con.close()


# --------------------------------------------------------------- ClickHouse


class ClickHouseStore:
    """A ClickHouse database over the native protocol (clickhouse-driver)."""

    dialect: Dialect = "clickhouse"

    def __init__(self, client: Any, target: Target) -> None:
        self.client = client
        self.target = target
        self.label = target.label

    @classmethod
    def open(cls, target: Target, *, create: bool) -> ClickHouseStore:
        try:
            from clickhouse_driver import Client
        except ImportError:
            raise StoreError(
                "--db clickhouse://... needs clickhouse-driver: "
                "pip install 'flowspec-telemetry[clickhouse]'"
            ) from None

        def client(database: str) -> Any:
            return Client(
                target.host,
                port=target.port,
                database=database,
                user=target.user,
                password=target.password,
                connect_timeout=5,
                send_receive_timeout=300,
                settings={"insert_block_size": 1_048_576},
            )

        store = cls(client("default"), target)
        if create:
            store.query(f"CREATE DATABASE IF NOT EXISTS {target.database}")
        elif not store.query(
            f"SELECT COUNT(*) FROM system.databases WHERE name = '{target.database}'"
        )[0][0]:
            store.close()
            raise StoreError(
                f"no org database at {target.label}: load share reports with `org ingest` first"
            )
        store.close()
        store.client = client(target.database)
        return store

    def query(self, sql: str) -> list[tuple[Any, ...]]:
        try:
            return list(self.client.execute(sql))
        except Exception as exc:  # the driver's errors share no useful base class
            raise StoreError(f"{self.label}: {_short(exc, self.target.password)}") from None

    def insert(self, table: str, rows: Sequence[Sequence[Any]]) -> None:
        if not rows:
            return
        cols = columns(table)
        data = [list(col) for col in zip(*rows, strict=True)]
        for i, (_, kind) in enumerate(TABLES[table]):
            if kind == "Date":
                data[i] = [date.fromisoformat(v) if isinstance(v, str) else v for v in data[i]]
        try:
            self.client.execute(
                f"INSERT INTO {table} ({', '.join(cols)}) VALUES", data, columnar=True
            )
        except Exception as exc:
            raise StoreError(f"{self.label}: {_short(exc, self.target.password)}") from None

    def has_schema(self) -> bool:
        rows = self.query(
            "SELECT COUNT(*) FROM system.tables "
            f"WHERE database = '{self.target.database}' AND name = 'org_loads'"
        )
        return bool(rows and rows[0][0])

    def create_schema(self) -> None:
        for statement in create_statements("clickhouse"):
            self.query(statement)

    def begin(self) -> None:
        """ClickHouse has no transactions; `org_loads` written last plays that part."""

    def commit(self) -> None:
        """See `begin`."""

    def rollback(self) -> None:
        """See `begin`: rows of a load that never reached `org_loads` are never counted."""

    def close(self) -> None:
        with contextlib.suppress(Exception):
            self.client.disconnect()
