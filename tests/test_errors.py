"""One exception tree: every exception class of the package is under `TelemetryError`.

The tree is drawn in `flowspec_telemetry.core.errors`' docstring; this test
walks every module of the package, so a new exception class that forgets the
base or the drawing fails here.
"""

from __future__ import annotations

import errno
import importlib
import pkgutil
import re

import pytest

import flowspec_telemetry
from flowspec_telemetry.core import errors
from flowspec_telemetry.core.errors import StoreError, TelemetryError


def _package_exceptions() -> dict[str, type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for info in pkgutil.walk_packages(flowspec_telemetry.__path__, "flowspec_telemetry."):
        module = importlib.import_module(info.name)
        for value in vars(module).values():
            if (
                isinstance(value, type)
                and issubclass(value, BaseException)
                and value.__module__.startswith("flowspec_telemetry.")
            ):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return found


EXCEPTIONS = _package_exceptions()


def test_the_walk_finds_the_known_exceptions() -> None:
    names = {cls.__name__ for cls in EXCEPTIONS.values()}
    assert {"ConsentFileError", "QueryError", "StoreError", "CliError", "FileGone"} <= names


@pytest.mark.parametrize(
    "qualified", sorted(q for q, c in EXCEPTIONS.items() if not c.__name__.startswith("_"))
)
def test_every_public_exception_is_a_telemetry_error_drawn_in_the_tree(qualified: str) -> None:
    cls = EXCEPTIONS[qualified]
    assert issubclass(cls, TelemetryError), qualified
    tree = [ln for ln in (errors.__doc__ or "").splitlines() if "── " in ln]
    if cls is TelemetryError:
        return
    line = next((ln for ln in tree if re.search(rf"── {cls.__name__}\b", ln)), None)
    assert line is not None, f"{cls.__name__} is not drawn in core.errors' docstring"
    where = cls.__module__.removeprefix("flowspec_telemetry.")
    assert where in line or (where == "core.errors" and "here" in line), line


def test_builtin_bases_are_kept_so_old_handlers_still_catch() -> None:
    from flowspec_telemetry.consent.answers import NoProjectError
    from flowspec_telemetry.core.consent_rules import ConsentFileError
    from flowspec_telemetry.core.privacy import SaltError
    from flowspec_telemetry.history.selection import QueryError

    assert issubclass(QueryError, ValueError)
    assert issubclass(ConsentFileError, ValueError)
    assert issubclass(SaltError, OSError)
    assert issubclass(NoProjectError, LookupError)
    assert issubclass(StoreError, OSError)


def test_one_store_error_for_the_local_store_and_the_org_store() -> None:
    from flowspec_telemetry.core import store
    from flowspec_telemetry.org import backends

    assert store.StoreError is backends.StoreError is StoreError
    assert issubclass(store.FileGone, StoreError)
    local = StoreError(errno.ENOSPC, "short write")
    assert local.errno == errno.ENOSPC and not local.usage
    org = StoreError("org.duckdb: no such table", usage=True)
    assert str(org) == "org.duckdb: no such table" and org.usage


def test_the_package_exports_the_base() -> None:
    assert flowspec_telemetry.TelemetryError is TelemetryError
    assert "TelemetryError" in flowspec_telemetry.__all__
