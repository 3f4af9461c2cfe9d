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


# ------------------------------------------------------------ import graph

# The layers, lowest first (README, "Development"): a module may import its own
# layer and the ones below, never one above. Top-level modules (the package,
# `__main__`, `testing`) sit above everything; `_version` below everything.
LAYERS = {
    "_version": -1,
    "core": 0,
    "history": 1,
    "analysis": 2,
    "consent": 4,  # prompt, notice, answers, status: status reads the share ledger and budget
    "report": 3,
    "integrations": 3,
    "demo": 3,
    "org": 4,
    "cli": 5,
    "compat": 6,  # other tools' APIs (flowspec's module), translated onto all of the above
}


def _layer(module: str) -> int:
    parts = module.split(".")
    return LAYERS.get(parts[1], 6) if len(parts) > 1 else 6


def _imports(module: str) -> set[str]:
    """Every package module `module` imports, at the top or inside a function (not for typing)."""
    tree = ast.parse(MODULES[module].read_text(encoding="utf-8"))
    typing_only: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            typing_only.update(id(sub) for sub in ast.walk(node))
    found: set[str] = set()
    for node in ast.walk(tree):
        if id(node) in typing_only:
            continue
        if isinstance(node, ast.ImportFrom):
            source = _resolve(module, node)
            for alias in node.names:
                full = f"{source}.{alias.name}"
                found.add(full if _is_module(full) else source)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: _imports(module) for module in MODULES}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for nxt in sorted(graph[node]):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def test_no_import_circle() -> None:
    assert _cycles(GRAPH) == []


def test_the_circle_check_finds_a_circle() -> None:
    graph = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}
    assert _cycles(graph) == [["a", "b", "c"]]


@pytest.mark.parametrize("module", sorted(MODULES))
def test_no_arrow_points_up(module: str) -> None:
    up = sorted(d for d in GRAPH[module] if _layer(d) > _layer(module))
    assert up == [], f"{module} (layer {_layer(module)}) imports higher layers: {up}"


def test_every_folder_is_a_known_layer() -> None:
    folders = {p.name for p in SRC.iterdir() if p.is_dir() and not p.name.startswith("__")}
    assert folders <= set(LAYERS), folders - set(LAYERS)


def test_importing_export_loads_no_other_report() -> None:
    import json
    import subprocess
    import sys

    code = (
        "import json, sys, flowspec_telemetry.report.export\n"
        "print(json.dumps([m for m in sys.modules if m.startswith('flowspec_telemetry.report')]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    loaded = set(json.loads(done.stdout))
    assert not loaded & {
        "flowspec_telemetry.report.html",
        "flowspec_telemetry.report._svg",
        "flowspec_telemetry.report.share",
        "flowspec_telemetry.report._noise",
    }, loaded
