"""The package's shape: no module uses another's private names, no import circle, no arrow up.

Read from the source (ast), so the rules hold for every module, also the
ones a test never imports.
"""

from __future__ import annotations

import ast
import importlib
import types
from pathlib import Path

import pytest

import flowspec_telemetry

SRC = Path(flowspec_telemetry.__file__).parent
PACKAGE = "flowspec_telemetry"


def _modules() -> dict[str, Path]:
    found = {}
    for path in sorted(SRC.rglob("*.py")):
        parts = list(path.relative_to(SRC).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts.pop()
        found[".".join([PACKAGE, *parts])] = path
    return found


MODULES = _modules()


def _is_module(dotted: str) -> bool:
    return dotted in MODULES


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _resolve(module: str, node: ast.ImportFrom) -> str:
    if node.level == 0:
        return node.module or ""
    base = module.split(".")
    if MODULES[module].name != "__init__.py":
        base = base[:-1]
    base = base[: len(base) - (node.level - 1)]
    return ".".join([*base, *([node.module] if node.module else [])])


def _private_uses(module: str) -> list[str]:
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    uses = []
    module_aliases: dict[str, str] = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            if not source.startswith(PACKAGE):
                continue
            for alias in node.names:
                if _is_module(f"{source}.{alias.name}"):
                    module_aliases[alias.asname or alias.name] = f"{source}.{alias.name}"
                elif _private(alias.name) and source != module:
                    uses.append(f"imports {source}.{alias.name}")
        elif isinstance(node, ast.Import):
            for alias in node.names:
                if alias.name.startswith(PACKAGE) and alias.asname:
                    module_aliases[alias.asname] = alias.name
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and _private(node.attr)
            and isinstance(node.value, ast.Name)
            and node.value.id in module_aliases
            and not _is_module(f"{module_aliases[node.value.id]}.{node.attr}")
        ):
            uses.append(f"uses {module_aliases[node.value.id]}.{node.attr}")
    return uses


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_module_reaches_into_another_modules_private_names(module: str) -> None:
    assert _private_uses(module) == []


def test_the_check_catches_a_private_import(tmp_path: Path) -> None:
    assert isinstance(importlib.import_module("flowspec_telemetry.report.html"), types.ModuleType)
    probe = "flowspec_telemetry.org.html"
    source = MODULES[probe]
    original = source.read_text(encoding="utf-8")
    MODULES[probe] = tmp_path / "html.py"
    try:
        MODULES[probe].write_text(
            "from flowspec_telemetry.report.html import _footer\n"
            "from flowspec_telemetry.analysis import insights\n"
            "x = insights._label\n" + original
        )
        assert _private_uses(probe) == [
            "imports flowspec_telemetry.report.html._footer",
            "uses flowspec_telemetry.analysis.insights._label",
        ]
    finally:
        MODULES[probe] = source
