"""The package API: `__all__`, lazy names, and a cheap `import flowspec_telemetry`."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

import flowspec_telemetry
from flowspec_telemetry._version import __version__

HEAVY = ("typer", "rich", "yaml", "dataclasses", "typing", "pathlib")


def _ruff_sort_key(name: str) -> tuple[int, str]:
    """RUF022's isort-style order: CONSTANTS, then Classes, then everything else."""
    if name.isupper() and len(name) > 1:
        return (0, name)
    if name[:1].isupper():
        return (1, name)
    return (2, name)


def test_all_is_sorted_and_unique() -> None:
    names = flowspec_telemetry.__all__
    assert len(set(names)) == len(names)
    assert names == sorted(names, key=_ruff_sort_key)


def test_every_exported_name_resolves_to_its_module_object() -> None:
    exports = flowspec_telemetry._EXPORTS
    assert set(exports) == set(flowspec_telemetry.__all__) - {"__version__"}
    for name, module in exports.items():
        value = getattr(flowspec_telemetry, name)
        source = importlib.import_module(f"flowspec_telemetry.{module}")
        assert value is getattr(source, name), name
        assert vars(flowspec_telemetry)[name] is value  # cached: later lookups are direct
    assert flowspec_telemetry.__version__ == __version__


def test_star_import_gives_exactly_the_api() -> None:
    namespace: dict[str, object] = {}
    exec("from flowspec_telemetry import *", namespace)  # noqa: S102 - a fixed statement
    namespace.pop("__builtins__")
    assert sorted(namespace) == sorted(flowspec_telemetry.__all__)


def test_dir_lists_the_api() -> None:
    assert dir(flowspec_telemetry) == sorted(flowspec_telemetry.__all__)
    assert "_EXPORTS" not in dir(flowspec_telemetry)


@pytest.mark.parametrize("name", ["nope", "tracker_", "Consent", "_EXPORTS_", "Stats"])
def test_an_unknown_attribute_raises_attribute_error(name: str) -> None:
    if name in vars(flowspec_telemetry):  # a submodule imported by another test
        pytest.skip(f"{name} is bound as a submodule in this process")
    with pytest.raises(
        AttributeError, match=f"module 'flowspec_telemetry' has no attribute '{name}'"
    ):
        getattr(flowspec_telemetry, name)
    assert not hasattr(flowspec_telemetry, name)


def test_from_import_of_an_unknown_name_is_an_import_error() -> None:
    with pytest.raises(ImportError, match="cannot import name 'no_such_thing'"):
        exec("from flowspec_telemetry import no_such_thing", {})  # noqa: S102 - a fixed statement


def _fresh(code: str, cwd: Path) -> Any:
    """Run `code` in a new interpreter (outside any project) and parse what it prints."""
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=cwd,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


def test_import_loads_no_heavy_module(tmp_path: Path) -> None:
    data = _fresh(
        "import sys, json\n"
        f"heavy = {HEAVY!r}\n"
        "before = [m for m in heavy if m in sys.modules]\n"
        "import flowspec_telemetry\n"
        "after = [m for m in heavy if m in sys.modules]\n"
        "ours = sorted(m for m in sys.modules if m.startswith('flowspec_telemetry'))\n"
        "print(json.dumps({'before': before, 'after': after, 'ours': ours}))\n",
        tmp_path,
    )
    assert data["before"] == []  # else this test could not see them being imported
    assert data["after"] == []
    assert data["ours"] == ["flowspec_telemetry", "flowspec_telemetry._version"]


def test_track_alone_stays_light(tmp_path: Path) -> None:
    """A host that records an event never loads typer, rich, yaml or dataclasses."""
    from flowspec_telemetry.core import consent_rules

    consent_rules.write_record(
        consent_rules.project_config_path(tmp_path), consent_rules.new_record("yes")
    )
    data = _fresh(
        "import sys, json\n"
        "from flowspec_telemetry import track, RoleEvent\n"
        "event_id = track(RoleEvent.ROLE_SELECTED, role='dev')\n"
        f"heavy = [m for m in {HEAVY[:4]!r} if m in sys.modules]\n"
        "print(json.dumps({'recorded': event_id is not None, 'heavy': heavy}))\n",
        tmp_path,
    )
    assert data == {"recorded": True, "heavy": []}


def test_lazy_names_load_their_module_on_first_use(tmp_path: Path) -> None:
    data = _fresh(
        "import sys, json\n"
        "import flowspec_telemetry as f\n"
        "a = 'flowspec_telemetry.consent.prompt' in sys.modules\n"
        "f.PromptResult\n"
        "b = 'flowspec_telemetry.consent.prompt' in sys.modules\n"
        "print(json.dumps({'a': a, 'b': b}))\n",
        tmp_path,
    )
    assert data == {"a": False, "b": True}
