"""`flowspec_telemetry.compat.flowspec` has the public API and layout of flowspec's module."""

from __future__ import annotations

import importlib
import inspect

import pytest

MODULES = ("", ".events", ".tracker", ".writer", ".config", ".integration", ".cli")


def _pair(suffix: str) -> tuple[object, object]:
    theirs = importlib.import_module("flowspec_cli.telemetry" + suffix)
    ours = importlib.import_module("flowspec_telemetry.compat.flowspec" + suffix)
    return theirs, ours


def _shape(obj: object) -> list[tuple[str, object, object]]:
    sig = inspect.signature(obj)  # type: ignore[arg-type]
    return [(p.name, p.kind, p.default) for p in sig.parameters.values()]


@pytest.mark.parametrize("suffix", MODULES)
def test_every_public_name_has_the_same_call_shape(flowspec_exe: object, suffix: str) -> None:
    theirs, ours = _pair(suffix)
    names = list(getattr(theirs, "__all__", ()))
    assert names, suffix
    for name in names:
        assert hasattr(ours, name), f"{suffix or '.'}: {name} missing"
        a, b = getattr(theirs, name), getattr(ours, name)
        if inspect.isclass(a):
            assert inspect.isclass(b), name
            public = [m for m in vars(a) if not m.startswith("_") or m == "__init__"]
            for member in public:
                assert hasattr(b, member), f"{name}.{member} missing"
                if callable(getattr(a, member)) and not isinstance(getattr(a, member), type):
                    assert _shape(getattr(a, member)) == _shape(getattr(b, member)), (
                        f"{name}.{member}"
                    )
        elif callable(a) and not hasattr(a, "registered_commands"):
            assert _shape(a) == _shape(b), f"{suffix}.{name}"
        elif not callable(a):
            assert type(a) is type(b) or isinstance(b, type(a)), name


def test_the_same_event_types_and_values(flowspec_exe: object) -> None:
    from flowspec_cli.telemetry import RoleEvent as Theirs

    from flowspec_telemetry.compat.flowspec import RoleEvent as Ours

    assert {e.name: e.value for e in Theirs} == {e.name: e.value for e in Ours}
    assert str(Ours.AGENT_STARTED) == "agent.started" and isinstance(Ours.AGENT_STARTED, str)


def test_the_cli_has_flowspecs_commands(flowspec_exe: object) -> None:
    from flowspec_cli.telemetry.cli import telemetry_app as theirs

    from flowspec_telemetry.compat.flowspec.cli import telemetry_app as ours

    def commands(app: object) -> set[str]:
        return {c.name or c.callback.__name__ for c in app.registered_commands}  # type: ignore[attr-defined]

    assert commands(theirs) <= commands(ours)


def test_flowspecs_own_module_reads_the_answer_the_compat_module_records(
    flowspec_exe: object, project: object
) -> None:
    from pathlib import Path

    from flowspec_cli.telemetry import config as theirs

    from flowspec_telemetry.compat.flowspec import config as ours

    root = Path(str(project))
    assert ours.enable_telemetry(root)
    assert theirs.is_telemetry_enabled(root) is True
    assert theirs.load_telemetry_config(root).consent_given_at
    assert ours.disable_telemetry(root)
    assert theirs.is_telemetry_enabled(root) is False
