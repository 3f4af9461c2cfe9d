"""One command for every performance claim: a table of ratios measured in one run.

    python3 benchmarks/run.py [--quick] [--sizes 10000,100000,1000000] [--json]

Each measurement stands next to a floor measured in the same run on the same
machine, so background load moves both and the ratio stays meaningful:

* `track()` in-process (consent on) vs `json.dumps` + one `os.write` on an open
  O_APPEND descriptor; consent off per call (no answer, DO_NOT_TRACK=1, no project);
* console-script cold start (`track`, `hook`) vs `python -c pass` of the same
  interpreter, from a regular (non-editable) install with compiled .pyc files;
* `import flowspec_telemetry` under `-X importtime`, and which heavy modules
  (typer, rich, yaml, click) the import and the `track` fast path pull in;
* `stats`, `view` and `insights` over 10k/100k/1M-event histories vs a bare
  loop that only parses the same lines: wall time and peak memory (ru_maxrss
  of each child process, from `wait4`).

Standard library only. See benchmarks/README.md for what each row means.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import gzip
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import tarfile
import tempfile
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

HERE: Final = Path(__file__).resolve().parent
REPO: Final = HERE.parent
WORKFLOW: Final = REPO / "tests" / "data" / "flowspec_workflow.yml"
# A real workflow file from flowspec's history (role commands, custom workflows):
# the larger built-in catalog plus what a real project adds.
REAL_WORKFLOW: Final = REPO / "tests" / "data" / "flowspec" / "v2-2025-12-27-flowspec_workflow.yml"
HOOK_PAYLOAD: Final = (
    REPO / "tests" / "data" / "claude-code-hooks" / "pre-tool-use-agent-security.json"
)
SCRIPT: Final = "flowspec-telemetry"
HEAVY: Final = ("typer", "rich", "yaml", "click")
TIME_BIN: Final = shutil.which("time", path="/usr/bin:/bin") or ""
DATA_VERSION: Final = "1"  # bump when eventgen's output changes, to regenerate kept data

sys.path.insert(0, str(HERE))
import eventgen  # noqa: E402


def log(message: str) -> None:
    sys.stderr.write(f"[bench] {message}\n")
    sys.stderr.flush()


# ------------------------------------------------------------------- processes


@dataclass(slots=True)
class Run:
    """One finished child process: wall time, peak memory, exit code, output."""

    seconds: float
    maxrss_mb: float
    code: int
    stdout: str
    stderr: str


def run_child(
    argv: Sequence[str],
    *,
    cwd: Path,
    env: dict[str, str],
    stdin: Path | None = None,
    timeout: float = 600.0,
    memory: bool = False,
) -> Run:
    """Run argv, timing it from fork to reap.

    With `memory`, the peak RSS is taken by `/usr/bin/time -f %M` when it exists:
    the `ru_maxrss` that `wait4` reports for a direct child also counts this
    (large) harness process, whose pages the child held between fork and exec.
    """
    rss_file: Path | None = None
    if memory and TIME_BIN:
        fd, name = tempfile.mkstemp(prefix="bench-rss-")
        os.close(fd)
        rss_file = Path(name)
        argv = [TIME_BIN, "-f", "%M", "-o", name, *argv]
    with (
        tempfile.TemporaryFile() as out,
        tempfile.TemporaryFile() as err,
        open(stdin or os.devnull, "rb") as inp,
    ):
        start = time.perf_counter()
        proc = subprocess.Popen(argv, cwd=cwd, env=env, stdin=inp, stdout=out, stderr=err)
        killer = threading.Timer(timeout, proc.kill)  # a blocking wait4 keeps timing exact
        killer.start()
        try:
            _, status, usage = os.wait4(proc.pid, 0)
        finally:
            killer.cancel()
        seconds = time.perf_counter() - start
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        maxrss_kib = usage.ru_maxrss  # KiB on Linux
        if rss_file is not None:
            lines = rss_file.read_text().split()
            rss_file.unlink()
            if lines and lines[-1].isdigit():
                maxrss_kib = int(lines[-1])
        return Run(
            seconds=seconds,
            maxrss_mb=maxrss_kib / 1024,
            code=proc.returncode,
            stdout=out.read().decode("utf-8", "replace"),
            stderr=err.read().decode("utf-8", "replace"),
        )


def missing_reason(run: Run) -> str:
    """Why a command gave no measurement, in a few words for the table."""
    text = run.stderr + run.stdout
    if "No such command" in text or "no such command" in text.lower():
        return "n/a (command missing)"
    first = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    return f"n/a (exit {run.code}: {first[:60]})"


def child_env(home: Path, **extra: str) -> dict[str, str]:
    """The current environment without consent variables, with an isolated home."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not (k.startswith("FLOWSPEC_") or k in ("DO_NOT_TRACK", "XDG_CONFIG_HOME", "CI"))
    }
    env["HOME"] = str(home)
    env["XDG_CONFIG_HOME"] = str(home / ".config")
    env["COLUMNS"] = "100"
    env.update(extra)
    return env


# -------------------------------------------------------------------- install


def build_venv(work: Path) -> Path:
    """A throwaway venv with a regular install of this repo; returns its python."""
    venv = work / "venv"
    python = venv / "bin" / "python"
    if not python.exists():
        log(f"creating venv {venv} (regular install: pip compiles .pyc at install time)")
        subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True)
        deps: list[str] = []
    else:
        log(f"reusing venv {venv}; reinstalling the repo so the code is current")
        deps = ["--no-deps", "--force-reinstall"]
    pip = [str(python), "-m", "pip", "install", "-q"]
    # The second call installs dependencies added since the venv was made (else a no-op).
    for cmd in ([*pip, *deps, str(REPO)], [*pip, str(REPO)]) if deps else ([*pip, str(REPO)],):
        proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if proc.returncode != 0:
            sys.stderr.write(proc.stdout + proc.stderr)
            raise SystemExit("pip install of the repo failed")
    return python


INSPECT_CODE: Final = r"""
import importlib.util, json, os, sys, sysconfig
import flowspec_telemetry as m
pkg = os.path.dirname(m.__file__)
py = []
for base, _, files in os.walk(pkg):
    py += [os.path.join(base, f) for f in files if f.endswith(".py")]
missing = [p for p in py if not os.path.exists(importlib.util.cache_from_source(p))]
site = sysconfig.get_paths()["purelib"]
print(json.dumps({
    "package_dir": pkg,
    "version": m.__version__,
    "regular_install": os.path.realpath(pkg).startswith(os.path.realpath(site)),
    "py_files": len(py),
    "pyc_missing": [os.path.relpath(p, pkg) for p in missing],
    "python": sys.executable,
    "python_version": sys.version.split()[0],
    "dont_write_bytecode": sys.dont_write_bytecode,
}))
"""


def inspect_install(python: Path, env: dict[str, str], cwd: Path) -> dict[str, Any]:
    run = run_child([str(python), "-c", INSPECT_CODE], cwd=cwd, env=env)
    if run.code != 0:
        raise SystemExit(f"{python} cannot import flowspec_telemetry:\n{run.stderr}")
    info: dict[str, Any] = json.loads(run.stdout)
    script = python.parent / SCRIPT
    if not script.exists():
        raise SystemExit(f"no console script {script} next to {python}")
    info["script"] = str(script)
    return info


# ------------------------------------------------------------------- projects


def make_project(
    root: Path,
    python: Path,
    env: dict[str, str],
    *,
    consent_yes: bool,
    workflow: Path = WORKFLOW,
) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(workflow, root / "flowspec_workflow.yml")
    if consent_yes:
        code = (
            "import sys; from pathlib import Path; "
            "from flowspec_telemetry.core import consent_rules as consent; "
            "r = Path(sys.argv[1]); "
            "consent.write_record(consent.project_config_path(r), consent.new_record('yes'))"
        )
        subprocess.run([str(python), "-c", code, str(root)], check=True, env=env)
    return root


def history_project(
    data: Path, size: int, python: Path, env: dict[str, str]
) -> tuple[Path, Path, int]:
    """A project whose live file holds `size` generated events; kept data is reused."""
    root = data / f"history-{size}"
    jsonl = root / ".flowspec" / "telemetry.jsonl"
    marker = root / f".generated-v{DATA_VERSION}-{size}"
    if not (marker.exists() and jsonl.exists()):
        if root.exists():
            shutil.rmtree(root)
        make_project(root, python, env, consent_yes=True)
        start = time.perf_counter()
        eventgen.write_history(jsonl, size)
        marker.write_text("ok\n")
        log(f"generated {size:,} events in {time.perf_counter() - start:.1f} s -> {jsonl}")
    return root, jsonl, jsonl.stat().st_size


# ---------------------------------------------------------------- measurements


def measure_inproc(
    python: Path, work: Path, env: dict[str, str], events: int, batches: int
) -> dict[str, Any]:
    scratch = work / "inproc"
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    argv = [str(python), str(HERE / "inproc.py"), str(scratch), str(WORKFLOW)]
    run = run_child([*argv, str(events), str(batches)], cwd=scratch, env=env)
    if run.code != 0:
        raise SystemExit(f"in-process benchmark failed:\n{run.stderr}")
    result: dict[str, Any] = json.loads(run.stdout)
    return result


@dataclass(slots=True)
class Cold:
    name: str
    argv: list[str]
    cwd: Path
    env: dict[str, str]
    stdin: Path | None = None
    times: list[float] = field(default_factory=list)
    status: str = ""


def measure_cold(
    info: dict[str, Any], python: Path, work: Path, env: dict[str, str], reps: int
) -> dict[str, Any]:
    on = make_project(work / "cold-on", python, env, consent_yes=True)
    off = make_project(work / "cold-off", python, env, consent_yes=False)
    real = make_project(work / "cold-real", python, env, consent_yes=True, workflow=REAL_WORKFLOW)
    script = info["script"]
    track = [script, "track", "role.selected", "--role", "dev"]
    template = ["track-role", "dev", "--command", "/flow:implement", "-q"]
    flowspec = install_flowspec(python, work)
    theirs = Cold(
        "flowspec telemetry track-role (flowspec 0.4.008's own), consent on",
        [str(flowspec), "telemetry", *template] if flowspec else [],
        on,
        env,
    )
    if flowspec is None:
        theirs.status = "n/a (no flowspec snapshot: set FLOWSPEC_SNAPSHOT)"
    cases = [
        Cold("python -c pass", [str(python), "-c", "pass"], on, env),
        Cold("track, consent on", track, on, env),
        Cold("track, consent off (not asked)", track, off, env),
        Cold("track, DO_NOT_TRACK=1", track, on, {**env, "DO_NOT_TRACK": "1"}),
        Cold("track-role (flowspec's template form), consent on", [script, *template], on, env),
        theirs,
        Cold(
            "hook claude-code, consent on", [script, "hook", "claude-code"], on, env, HOOK_PAYLOAD
        ),
        Cold("track, a real flowspec project file", track, real, env),
        Cold(
            "hook claude-code, a real flowspec project file",
            [script, "hook", "claude-code"],
            real,
            env,
            HOOK_PAYLOAD,
        ),
        Cold("typer command: stats --json (empty history)", [script, "stats", "--json"], on, env),
        Cold("typer command: --version", [script, "--version"], on, env),
        Cold(
            "python -c 'import flowspec_telemetry'",
            [str(python), "-c", "import flowspec_telemetry"],
            on,
            env,
        ),
    ]
    for case in cases:  # probe: also warms the page cache and the catalog cache
        if not case.argv:
            continue
        probe = run_child(case.argv, cwd=case.cwd, env=case.env, stdin=case.stdin)
        case.status = "ok" if probe.code == 0 else missing_reason(probe)
    live = [c for c in cases if c.status == "ok" and c.argv]
    for _ in range(reps):  # round-robin: every case sees the same background load
        for case in live:
            run = run_child(case.argv, cwd=case.cwd, env=case.env, stdin=case.stdin)
            if run.code != 0:
                raise SystemExit(f"{case.name} failed during timing:\n{run.stderr}")
            case.times.append(run.seconds * 1000)
    floor = cases[0]
    out: dict[str, Any] = {"reps": reps, "cases": []}
    for case in cases:
        row: dict[str, Any] = {"name": case.name, "status": case.status}
        if case.times:
            row["median_ms"] = statistics.median(case.times)
            row["min_ms"] = min(case.times)
            row["ratio_median"] = row["median_ms"] / statistics.median(floor.times)
            row["ratio_min"] = row["min_ms"] / min(floor.times)
        out["cases"].append(row)
    by_name = {c.name: c for c in cases if c.times}
    ours = by_name.get("track-role (flowspec's template form), consent on")
    plain = by_name.get("track, consent on")
    if ours is not None and plain is not None:
        out["template_vs_track"] = statistics.median(ours.times) / statistics.median(plain.times)
    if ours is not None and theirs.times:
        out["flowspec_vs_template"] = statistics.median(theirs.times) / statistics.median(
            ours.times
        )
    return out


def flowspec_snapshot() -> Path | None:
    """flowspec 0.4.008's source snapshot (`../shared/flowspec`, as scripts/test finds it)."""
    given = os.environ.get("FLOWSPEC_SNAPSHOT")
    candidates = [Path(given)] if given else []
    name = "flowspec-0.4.008-src.tar.gz"
    candidates += [REPO.parent / "shared" / "flowspec" / name]
    candidates += [REPO.parent.parent / "shared" / "flowspec" / name]
    return next((c for c in candidates if c.is_file()), None)


def install_flowspec(python: Path, work: Path) -> Path | None:
    """The real `flowspec` console script in the benchmark venv (editable, as scripts/test does)."""
    exe = python.parent / "flowspec"
    if exe.exists():
        return exe
    snapshot = flowspec_snapshot()
    if snapshot is None:
        return None
    target = work / "flowspec-src"
    if not (target / "flowspec-0.4.008" / "pyproject.toml").exists():
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(snapshot) as tar:
            tar.extractall(target, filter="data")
    log("installing flowspec 0.4.008 into the benchmark venv (for its own track-role)")
    cmd = [str(python), "-m", "pip", "install", "-q", "-e", str(target / "flowspec-0.4.008")]
    proc = subprocess.run(cmd, capture_output=True, text=True, check=False)
    return exe if proc.returncode == 0 and exe.exists() else None


_IMPORTTIME_RE: Final = re.compile(r"^import time:\s+(\d+) \|\s+(\d+) \|( *)(\S+)")

MODULES_CODE: Final = r"""
import json, sys
mode = sys.argv[1]
if mode == "import":
    import flowspec_telemetry
else:
    from flowspec_telemetry.cli.entry import main
    main(["track", "role.selected", "--role", "dev", "-q"])
print(json.dumps(sorted(sys.modules)))
"""


def measure_import(python: Path, work: Path, env: dict[str, str], reps: int) -> dict[str, Any]:
    totals: list[int] = []
    per_module: dict[str, list[tuple[int, int]]] = {}
    cwd = work / "cold-on"
    for _ in range(reps):
        run = run_child(
            [str(python), "-X", "importtime", "-c", "import flowspec_telemetry"], cwd=cwd, env=env
        )
        block: list[tuple[str, int, int]] = []
        for line in run.stderr.splitlines():
            m = _IMPORTTIME_RE.match(line)
            if not m:
                continue
            self_us, cum_us, nested, name = int(m[1]), int(m[2]), len(m[3]) > 1, m[4]
            if nested:
                block.append((name, self_us, cum_us))
                continue
            if name == "flowspec_telemetry":
                totals.append(cum_us)
                for mod, s, c in block:
                    per_module.setdefault(mod, []).append((s, c))
            block = []
    top = sorted(
        (
            (mod, statistics.median(s for s, _ in v), statistics.median(c for _, c in v))
            for mod, v in per_module.items()
        ),
        key=lambda t: -t[1],
    )[:8]
    heavy: dict[str, list[str]] = {}
    fresh = make_project(work / "import-fresh", python, env, consent_yes=True)
    # Warm the catalog cache of the "cached" project (the cold-start section
    # does it too, but it may not have run: `--only import`).
    run_child([str(python), "-c", MODULES_CODE, "track"], cwd=cwd, env=env)
    for label, mode, folder in (
        ("import flowspec_telemetry", "import", cwd),
        ("track fast path (catalog cached)", "track", cwd),
        ("track fast path (first event of a fresh project)", "track", fresh),
    ):
        run = run_child([str(python), "-c", MODULES_CODE, mode], cwd=folder, env=env)
        loaded = set(json.loads(run.stdout.splitlines()[-1])) if run.code == 0 else set()
        heavy[label] = sorted(h for h in HEAVY if h in loaded)
    return {
        "reps": reps,
        "total_us_median": statistics.median(totals) if totals else None,
        "total_us_min": min(totals) if totals else None,
        "modules_in_package": len(per_module),
        "top_self_us": [{"module": m, "self_us": s, "cumulative_us": c} for m, s, c in top],
        "heavy_imported": heavy,
    }


FLOOR_CODE: Final = (
    "import json, sys\n"
    "n = 0\n"
    "loads = json.loads\n"
    "with open(sys.argv[1], 'rb') as fh:\n"
    "    for line in fh:\n"
    "        loads(line)\n"
    "        n += 1\n"
    "print(n)\n"
)


def measure_readers(
    *,
    info: dict[str, Any],
    python: Path,
    data: Path,
    env: dict[str, str],
    sizes: Sequence[int],
    reps_small: int,
    reps_large: int,
) -> dict[str, Any]:
    script = info["script"]
    ops: list[tuple[str, list[str]]] = [
        ("parse floor", [str(python), "-c", FLOOR_CODE]),
        ("stats --json", [script, "stats", "--json"]),
        ("view", [script, "view"]),
        ("insights --json", [script, "insights", "--json"]),
    ]
    results: dict[str, Any] = {"sizes": {}}
    status: dict[str, str] = {}
    for size in sizes:
        root, jsonl, nbytes = history_project(data, size, python, env)
        reps = reps_large if size >= 1_000_000 else reps_small
        runs: dict[str, list[Run]] = {name: [] for name, _ in ops}
        for name, argv in ops:
            if status.get(name, "ok") != "ok":
                continue
            full = [*argv, str(jsonl)] if name == "parse floor" else argv
            probe = run_child(full, cwd=root, env=env, memory=True)
            if probe.code != 0:
                status[name] = missing_reason(probe)
                log(f"{name}: {status[name]}")
            else:
                status[name] = "ok"
        for _ in range(reps):
            for name, argv in ops:
                if status[name] != "ok":
                    continue
                full = [*argv, str(jsonl)] if name == "parse floor" else argv
                run = run_child(full, cwd=root, env=env, memory=True)
                if run.code != 0:
                    raise SystemExit(f"{name} failed at {size:,} events:\n{run.stderr[-2000:]}")
                runs[name].append(run)
        log(f"readers at {size:,} events done")
        row: dict[str, Any] = {"bytes": nbytes, "reps": reps, "ops": {}}
        for name, _ in ops:
            if status[name] != "ok":
                row["ops"][name] = {"status": status[name]}
                continue
            done = runs[name]
            entry: dict[str, Any] = {
                "status": "ok",
                "median_s": statistics.median(r.seconds for r in done),
                "min_s": min(r.seconds for r in done),
                "peak_mb": max(r.maxrss_mb for r in done),
            }
            if name == "stats --json":
                entry["exact"] = _stats_total(done[0].stdout) == size
            row["ops"][name] = entry
        floor = row["ops"]["parse floor"]
        for entry in row["ops"].values():
            if entry.get("status") == "ok":
                entry["ratio_time"] = entry["median_s"] / floor["median_s"]
        results["sizes"][str(size)] = row
    return results


# Floors for the archived histories: the same events, read the cheapest way.
ORJSON_FLOOR_CODE: Final = (
    "import gzip, sys, orjson\n"
    "n = 0\n"
    "loads = orjson.loads\n"
    "for name in sys.argv[1:]:\n"
    "    fh = gzip.open(name, 'rb') if name.endswith('.gz') else open(name, 'rb')\n"
    "    with fh:\n"
    "        for line in fh:\n"
    "            loads(line)\n"
    "            n += 1\n"
    "print(n)\n"
)
CSV_FLOOR_CODE: Final = (
    "import csv, sys, orjson\n"
    "cols = sys.argv[2].split(',')\n"
    "with open(sys.argv[1], 'rb') as src, open(sys.argv[3], 'w', newline='') as out:\n"
    "    w = csv.writer(out, lineterminator='\\r\\n')\n"
    "    w.writerow(cols)\n"
    "    for line in src:\n"
    "        e = orjson.loads(line)\n"
    "        w.writerow([e.get(c.split('.')[0]) for c in cols])\n"
)


def archived_project(
    data: Path, size: int, python: Path, env: dict[str, str]
) -> tuple[Path, list[Path], Path]:
    """A project holding `size` events as rotation leaves them: 10,000-event gzip
    archives and a live file. Also writes all lines to one plain file (the bytes the
    export floors copy). Kept data is reused."""
    root = data / f"archived-{size}"
    folder = root / ".flowspec"
    plain = data / f"archived-{size}.jsonl"
    marker = root / f".generated-v{DATA_VERSION}-{size}"
    if not (marker.exists() and plain.exists()):
        if root.exists():
            shutil.rmtree(root)
        make_project(root, python, env, consent_yes=True)
        start = time.perf_counter()
        eventgen.write_rotated_history(folder, size)
        with open(plain, "wb") as out:
            for path in _history_paths(folder):
                opener = gzip.open if path.name.endswith(".gz") else open
                with opener(path, "rb") as src:
                    shutil.copyfileobj(src, out, 1 << 20)
        marker.write_text("ok\n")
        log(f"generated {size:,} archived events in {time.perf_counter() - start:.1f} s")
    return root, _history_paths(folder), plain


def _history_paths(folder: Path) -> list[Path]:
    archives = sorted(
        (p for p in folder.glob("telemetry-*.jsonl.gz")),
        key=lambda p: (p.name.split("-")[1], int(p.name.split("-")[2].split(".")[0])),
    )
    return [*archives, folder / "telemetry.jsonl"]


def _forget_summaries(root: Path) -> None:
    for pattern in ("*.summary.json", "*.rollup.json"):
        for path in (root / ".flowspec").glob(pattern):
            path.unlink()


def measure_archived(
    *,
    info: dict[str, Any],
    python: Path,
    data: Path,
    env: dict[str, str],
    sizes: Sequence[int],
    reps: int,
) -> dict[str, Any]:
    """Readers over histories in rotated archives: cold (no summaries yet) and warm."""
    script = info["script"]
    out: dict[str, Any] = {"sizes": {}}
    for size in sizes:
        root, paths, plain = archived_project(data, size, python, env)
        day = _middle_day(plain)
        one_day = ["--since", day, "--until", day]
        row: dict[str, Any] = {"load": load_average(), "ops": {}, "day": day}

        def timed(name: str, argv: list[str], n: int, *, cold: bool = False) -> None:
            _timed(row, root, env, size, name, argv, n, cold=cold)  # noqa: B023 - called at once

        timed("python -c pass", [str(python), "-c", "pass"], 5)
        timed("orjson parse floor", [str(python), "-c", ORJSON_FLOOR_CODE, *map(str, paths)], 1)
        timed("stats --json cold", [script, "stats", "--json"], 1, cold=True)
        timed("insights --json cold", [script, "insights", "--json"], 1, cold=True)
        timed("stats --json", [script, "stats", "--json"], reps)  # summaries of both now
        timed("insights --json", [script, "insights", "--json"], reps)
        timed("stats --json, one day", [script, "stats", "--json", *one_day], reps)
        timed("insights --json, one day", [script, "insights", "--json", *one_day], reps)
        target = data / "export.out"
        copy = data / "copy.out"
        timed("cp of the export's bytes", ["cp", str(plain), str(copy)], reps)
        timed("zcat of the archives", ["sh", "-c", f"zcat {paths[0].parent}/*.gz > {copy}"], 1)
        export = [script, "export", "--force", "--output", str(target), "--format"]
        timed("export --format jsonl", [*export, "jsonl"], reps)
        if size <= 1_000_000:
            cols = ",".join(CSV_COLUMNS)
            timed(
                "orjson + csv.writer floor",
                [str(python), "-c", CSV_FLOOR_CODE, str(plain), cols, str(copy)],
                1,
            )
            timed("export --format csv", [*export, "csv"], 1)
        for extra in (target, copy):
            extra.unlink(missing_ok=True)
        row["load_after"] = load_average()
        out["sizes"][str(size)] = row
    return out


def _timed(  # noqa: PLR0917 - a helper of one function
    row: dict[str, Any],
    root: Path,
    env: dict[str, str],
    size: int,
    name: str,
    argv: list[str],
    n: int,
    *,
    cold: bool = False,
) -> None:
    """Run `argv` `n` times in `root` (dropping summaries first when `cold`); record it."""
    runs = []
    for _ in range(n):
        if cold:
            _forget_summaries(root)
        run = run_child(argv, cwd=root, env=env, memory=True, timeout=3600)
        if run.code != 0:
            raise SystemExit(f"{name} failed at {size:,} events:\n{run.stderr[-2000:]}")
        runs.append(run)
    row["ops"][name] = {
        "median_s": statistics.median(r.seconds for r in runs),
        "min_s": min(r.seconds for r in runs),
        "peak_mb": max(r.maxrss_mb for r in runs),
        "runs": n,
    }
    log(f"  {size:,} {name}: {row['ops'][name]['median_s']:.2f} s")


CSV_COLUMNS: Final = (
    "schema_version",
    "event_id",
    "timestamp",
    "event_type",
    "role",
    "command",
    "agent",
    "project_id",
    "previous_role",
    "agent_role",
    "handoff.from_agent",
    "handoff.to_agent",
    "session_id",
    "invocation_id",
    "duration_ms",
    "outcome",
    "source",
    "context.os",
    "context.python",
    "context.tool_version",
    "context.ci",
    "extra",
)


def _middle_day(plain: Path) -> str:
    size = plain.stat().st_size
    with open(plain, "rb") as fh:
        fh.seek(size // 2)
        fh.readline()
        line = fh.readline()
    stamp = json.loads(line)["timestamp"]
    return str(stamp[:10])


def _stats_total(text: str) -> int | None:
    try:
        data = json.loads(text)
    except ValueError:
        return None
    if isinstance(data, dict):
        for key in ("total", "events", "total_events"):
            if isinstance(data.get(key), int):
                return int(data[key])
    return None


def org_extras(python: Path, work: Path, env: dict[str, str]) -> bool:
    """Make sure the measured venv has the org extras (duckdb, clickhouse-driver)."""
    probe = run_child([str(python), "-c", "import duckdb, clickhouse_driver"], cwd=work, env=env)
    if probe.code == 0:
        return True
    log("installing the org extras (duckdb, clickhouse-driver) into the measured venv")
    pip = [str(python), "-m", "pip", "install", "-q", f"{REPO}[org,clickhouse]"]
    return subprocess.run(pip, capture_output=True, check=False).returncode == 0


def run_bench_script(
    python: Path, work: Path, env: dict[str, str], folder: str, script: str, *args: object
) -> dict[str, Any]:
    """Run `script` (beside this file) in a fresh `work/folder`; its JSON, with a status."""
    scratch = work / folder
    if scratch.exists():
        shutil.rmtree(scratch)
    scratch.mkdir(parents=True)
    run = run_child(
        [str(python), str(HERE / script), str(scratch), *map(str, args)], cwd=scratch, env=env
    )
    if run.code != 0:
        return {"status": missing_reason(run)}
    result: dict[str, Any] = json.loads(run.stdout)
    result["status"] = "ok"
    return result


def measure_org(python: Path, work: Path, env: dict[str, str], n: int) -> dict[str, Any]:
    """Ingest of `n` share reports and org insights, DuckDB vs ClickHouse (orgbench.py)."""
    log(f"org: {n:,} share reports, DuckDB vs ClickHouse")
    if not org_extras(python, work, env):
        return {"status": "n/a (cannot install the org extras)"}
    return run_bench_script(python, work, env, "org", "orgbench.py", n)


# ----------------------------------------------------------------------- table


def fmt(value: float | None, unit: str = "", digits: int = 1) -> str:
    if value is None:
        return "-"
    return f"{value:,.{digits}f}{unit}"


def verdict(ok: bool | None) -> str:
    return {True: "ok", False: "MISS", None: "-"}[ok]


def render_table(title: str, header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = "  ".join("-" * w for w in widths)
    out = [title, line]
    out.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)))
    out.append(line)
    for r in rows:
        cells = [
            str(c).rjust(w) if i else str(c).ljust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        ]
        out.append("  ".join(cells))
    return "\n".join(out) + "\n"


def _section_inproc(results: dict[str, Any], parts: list[str]) -> None:
    inproc = results.get("inproc")
    if not inproc:
        return
    rows = []
    for key, label in (("on_explicit_root", "project_root="), ("on_cwd", "found from cwd")):
        t, f = inproc[key]["track"], inproc[key]["floor"]
        ratio_p99 = t["p99_us"] / f["p99_us"]
        rows.append(
            [
                f"track() consent on, {label}",
                fmt(t["median_us"], " us"),
                fmt(t["p99_us"], " us"),
                fmt(f["median_us"], " us"),
                fmt(f["p99_us"], " us"),
                fmt(t["median_us"] / f["median_us"], "x"),
                fmt(ratio_p99, "x"),
                "p99 <= 3x",
                verdict(ratio_p99 <= 3),
            ]
        )
    floor = inproc["on_explicit_root"]["floor"]
    for key, label in (
        ("on_explicit_root", "project_root="),
        ("on_cwd", "found from cwd"),
        ("on_rotating", "rotating every 1,000"),
    ):
        t = inproc[key] if key == "on_rotating" else inproc[key]["track"]
        if "p999_us" not in t:
            continue
        ratio = t["p999_us"] / floor["p999_us"]
        rows.append(
            [
                f"track() {label}: p99.9 / slowest",
                fmt(t["p999_us"], " us"),
                fmt(t["max_us"], " us"),
                fmt(floor["p999_us"], " us"),
                fmt(floor["max_us"], " us"),
                "",
                fmt(ratio, "x"),
                "p99.9 <= 10x, max <= 5 ms",
                verdict(ratio <= 10 and t["max_us"] <= 5000),
            ]
        )
    n = inproc["on_cwd"]["track"]["n"]
    parts.append(
        render_table(
            f"1. track() in-process, {n:,} events (floor: json.dumps + os.write O_APPEND)",
            [
                "case",
                "median",
                "p99",
                "floor med",
                "floor p99",
                "ratio med",
                "ratio p99",
                "target",
                "",
            ],
            rows,
        )
    )
    rows = []
    for key, label in (
        ("no_answer", "consent off: project, not asked"),
        ("do_not_track", "consent off: DO_NOT_TRACK=1"),
        ("no_project", "consent off: outside any project"),
    ):
        r = inproc["off"][key]
        rows.append(
            [
                label,
                fmt(r["median_us"], " us", 2),
                fmt(r["min_us"], " us", 2),
                "yes" if r["wrote_nothing"] else "NO",
                "< 5 us",
                verdict(r["median_us"] < 5),
            ]
        )
    parts.append(
        render_table(
            "   per call after the first (median of batches of 1,000)",
            ["case", "per call", "best batch", "no write", "target", ""],
            rows,
        )
    )


def _section_cold(results: dict[str, Any], parts: list[str]) -> None:
    cold = results.get("cold")
    if not cold:
        return
    rows = []
    for c in cold["cases"]:
        if c["status"] != "ok":
            rows.append([c["name"], c["status"], "", "", "", "", ""])
            continue
        is_track = c["name"].startswith(("track", "hook"))
        is_typer = c["name"].startswith("typer")
        target, ok = "", None
        if is_track:
            target, ok = "<= 2.5x", c["ratio_median"] <= 2.5
        elif is_typer:
            target, ok = "well under 100 ms", c["median_ms"] < 100
        rows.append(
            [
                c["name"],
                fmt(c["median_ms"], " ms"),
                fmt(c["min_ms"], " ms"),
                fmt(c["ratio_median"], "x", 2),
                fmt(c["ratio_min"], "x", 2),
                target,
                verdict(ok) if target else "",
            ]
        )
    parts.append(
        render_table(
            f"2. CLI cold start, {cold['reps']} runs each, round-robin, vs python -c pass",
            ["command", "median", "min", "ratio med", "ratio min", "target", ""],
            rows,
        )
    )
    same = cold.get("template_vs_track")
    if same is not None:
        parts.append(
            f"track-role (template form) / track, median: {same:.2f}x "
            f"(target <= 1.25x: the same cold start) {verdict(same <= 1.25)}"
        )
    theirs = cold.get("flowspec_vs_template")
    if theirs is not None:
        parts.append(
            f"flowspec's own `flowspec telemetry track-role` / ours, median: {theirs:.2f}x"
        )


def _section_import(results: dict[str, Any], parts: list[str]) -> None:
    imp = results.get("import")
    if not imp:
        return
    rows = [
        [
            "import flowspec_telemetry (cumulative)",
            fmt(imp["total_us_median"], " us", 0),
            fmt(imp["total_us_min"], " us", 0),
        ]
    ]
    for m in imp["top_self_us"]:
        rows.append(
            [
                f"  {m['module']} (self / cumulative)",
                fmt(m["self_us"], " us", 0),
                fmt(m["cumulative_us"], " us", 0),
            ]
        )
    for label, heavy in imp["heavy_imported"].items():
        rows.append([f"heavy modules: {label}", ", ".join(heavy) or "none", ""])
    parts.append(
        render_table(
            f"3. import cost, -X importtime, median of {imp['reps']} runs",
            ["what", "median", "min / cum"],
            rows,
        )
    )


def _section_readers(results: dict[str, Any], parts: list[str]) -> None:
    readers = results.get("readers")
    if not readers:
        return
    rows = []
    targets = {
        "stats --json": "<= 3 s at 1M, flat mem",
        "view": "< 0.3 s at 1M",
        "insights --json": "<= 2x floor at 1M, flat mem",
    }
    sizes = sorted(readers["sizes"], key=int)
    for size in sizes:
        row = readers["sizes"][size]
        for name, entry in row["ops"].items():
            label = f"{int(size):>9,}  {name}"
            if entry["status"] != "ok":
                rows.append([label, entry["status"], "", "", "", ""])
                continue
            ok: bool | None = None
            big = int(size) >= 1_000_000
            if name == "stats --json" and big:
                ok = entry["median_s"] <= 3 and bool(entry.get("exact"))
            elif name == "view" and big:
                ok = entry["median_s"] < 0.3
            elif name == "insights --json" and big:
                # The issue sets the target at 1M events; below that the
                # interpreter and CLI start-up (~0.2 s) dominate the ratio.
                ok = entry["ratio_time"] <= 2
            extra = ""
            if "exact" in entry:
                extra = "; exact" if entry["exact"] else "; NOT EXACT"
            rows.append(
                [
                    label,
                    fmt(entry["median_s"], " s", 3),
                    fmt(entry["peak_mb"], " MB"),
                    fmt(entry["ratio_time"], "x", 2) if name != "parse floor" else "1.00x",
                    targets.get(name, f"{row['bytes'] / 1e6:,.0f} MB file") + extra,
                    verdict(ok),
                ]
            )
    parts.append(
        render_table(
            "4. readers (wall time incl. interpreter start; peak RSS of the process)",
            ["events  operation", "median", "peak mem", "vs floor", "target", ""],
            rows,
        )
    )
    flat = readers.get("memory_flat")
    if flat:
        rows = [
            [
                name,
                fmt(v["mb_small"], " MB"),
                fmt(v["mb_large"], " MB"),
                fmt(v["growth"], "x", 2),
                verdict(v["flat"]),
            ]
            for name, v in flat.items()
        ]
        parts.append(
            render_table(
                f"   memory flat? peak at {flat_sizes(readers)}",
                ["operation", "small", "large", "growth", "flat"],
                rows,
            )
        )


def measure_weekly(
    python: Path, work: Path, env: dict[str, str], events: int, n: int
) -> dict[str, Any]:
    """Share format 2 next to format 1: report generation and org ingest + answers."""
    log(f"weekly: report of one week at {events:,} events; org of {n:,} reports, both formats")
    if not org_extras(python, work, env):
        return {"status": "n/a (cannot install the org extras)"}
    return run_bench_script(python, work, env, "weekly", "weeklybench.py", events, n)


def _section_weekly(results: dict[str, Any], parts: list[str]) -> None:
    wk = results.get("weekly")
    if not wk:
        return
    if wk.get("status") != "ok":
        parts.append(
            render_table("6. share format 2", ["what", "result"], [["weekly", wk["status"]]])
        )
        return
    gen = wk["generation"]
    rows = [
        [
            f"report of {gen['week']} ({gen['events_in_week']:,} of {gen['events']:,} events)",
            fmt(gen["format1_s"], " s", 2),
            fmt(gen["format2_s"], " s", 2),
        ]
    ]
    for engine in ("duckdb", "clickhouse"):
        one, two = wk["formats"]["format1"][engine], wk["formats"]["format2"][engine]
        if one.get("status") != "ok" or two.get("status") != "ok":
            rows.append([engine, one.get("status", "n/a"), two.get("status", "n/a")])
            continue
        rows.append(
            [
                f"{engine}: ingest {wk['n']:,} reports",
                fmt(one["ingest_s"], " s", 2),
                fmt(two["ingest_s"], " s", 2),
            ]
        )
        rows.append(
            [
                f"{engine}: org answers",
                fmt(one["insights_s"] * 1000, " ms", 1),
                fmt(two["insights_s"] * 1000, " ms", 1),
            ]
        )
    rows.append(
        [
            "read + validate all files",
            fmt(wk["formats"]["format1"]["read_validate_s"], " s", 2),
            fmt(wk["formats"]["format2"]["read_validate_s"], " s", 2),
        ]
    )
    parts.append(
        render_table(
            "6. share format 2 (weekly, person-level) next to format 1, same run",
            ["step", "format 1", "format 2"],
            rows,
        )
    )


def measure_collector(
    python: Path, work: Path, env: dict[str, str], n: int, clients: int
) -> dict[str, Any]:
    """The collector (uploads/s, POST p99, DuckDB and ClickHouse) and the upload trigger's cost."""
    log(f"collector: {n:,} uploads from {clients} clients, DuckDB and ClickHouse; trigger cost")
    probe = run_child([str(python), "-c", "import uvicorn, duckdb"], cwd=work, env=env)
    if probe.code != 0:
        pip = [str(python), "-m", "pip", "install", "-q", f"{REPO}[collector,org,clickhouse]"]
        if subprocess.run(pip, capture_output=True, check=False).returncode != 0:
            return {"status": "n/a (cannot install the collector extras)"}
    return run_bench_script(python, work, env, "collector", "collectorbench.py", n, clients)


def _section_collector(results: dict[str, Any], parts: list[str]) -> None:
    col = results.get("collector")
    if not col:
        return
    if col.get("status") != "ok":
        parts.append(
            render_table("7. collector", ["what", "result"], [["collector", col["status"]]])
        )
        return
    rows = []
    for engine in ("duckdb", "clickhouse"):
        e = col[engine]
        if e.get("status") != "ok":
            rows.append([engine, e.get("status", "n/a"), "", "", "", ""])
            continue
        rows.append(
            [
                engine,
                fmt(e["uploads_per_s"], "/s", 0),
                fmt(e["p50_ms"], " ms", 1),
                fmt(e["p99_ms"], " ms", 1),
                fmt(e["all_loaded_s"], " s", 2),
                f"{e['stored']:,} of {e['n']:,}",
            ]
        )
    parts.append(
        render_table(
            f"7. collector: {col['n']:,} weekly reports ({col['report_bytes']:,} B each) "
            f"from {col['clients']} keep-alive clients",
            ["store", "uploads", "POST p50", "POST p99", "all loaded", "stored"],
            rows,
        )
    )
    t = col["trigger"]
    ms = t["ms"]
    parts.append(
        render_table(
            f"   upload trigger: `status` as a real process, median of {t['reps']}",
            ["case", "wall", "added"],
            [
                ["no collector set", fmt(ms["no collector"], " ms", 1), ""],
                [
                    "collector set, already started today",
                    fmt(ms["checked, not due"], " ms", 1),
                    fmt(t["added_by_check_ms"], " ms", 1),
                ],
                [
                    "the day an upload starts (spawns the step)",
                    fmt(ms["spawns"], " ms", 1),
                    fmt(t["added_by_spawn_ms"], " ms", 1),
                ],
            ],
        )
    )


def _section_archived(results: dict[str, Any], parts: list[str]) -> None:
    archived = results.get("archived")
    if not archived:
        return
    floors = {
        "stats --json": "orjson parse floor",
        "insights --json": "orjson parse floor",
        "stats --json cold": "orjson parse floor",
        "insights --json cold": "orjson parse floor",
        "stats --json, one day": "orjson parse floor",
        "insights --json, one day": "orjson parse floor",
        "export --format jsonl": "cp of the export's bytes",
        "export --format csv": "orjson + csv.writer floor",
    }
    targets = {
        "stats --json": "<= 1 s, <= 60 MB",
        "insights --json": "<= 1 s, <= 60 MB",
        "stats --json, one day": "<= 1 s, <= 60 MB",
        "insights --json, one day": "<= 1 s, <= 60 MB",
        "export --format jsonl": "<= 2x cp",
        "export --format csv": "<= 1.5x floor",
    }
    rows = []
    for size in sorted(archived["sizes"], key=int):
        row = archived["sizes"][size]
        for name, entry in row["ops"].items():
            floor = row["ops"].get(floors.get(name, ""), {})
            ratio = entry["median_s"] / floor["median_s"] if floor else None
            ok: bool | None = None
            if name in targets and "1 s" in targets[name]:
                ok = entry["median_s"] <= 1 and entry["peak_mb"] <= 60
            elif name == "export --format jsonl" and ratio is not None:
                ok = ratio <= 2
            elif name == "export --format csv" and ratio is not None:
                ok = ratio <= 1.5
            rows.append(
                [
                    f"{int(size):>10,}  {name}",
                    fmt(entry["median_s"], " s", 3),
                    fmt(entry["peak_mb"], " MB"),
                    fmt(ratio, "x", 2) if ratio is not None else "",
                    targets.get(name, ""),
                    verdict(ok) if name in targets else "",
                ]
            )
        rows.append([f"{int(size):>10,}  load average", row["load"], row["load_after"], "", "", ""])
    parts.append(
        render_table(
            "4b. readers over rotated archives (10,000 events each; cold = no summaries yet)",
            ["events  operation", "median", "peak mem", "vs floor", "target", ""],
            rows,
        )
    )


def _section_org(results: dict[str, Any], parts: list[str]) -> None:
    org = results.get("org")
    if not org:
        return
    if org.get("status") != "ok":
        parts.append(
            render_table("5. org aggregation", ["what", "result"], [["org", org["status"]]])
        )
        return
    rows = [
        ["generate share report files", fmt(org["generate_s"], " s", 2), "", "", "", "", ""],
        ["read + validate + SHA-256", fmt(org["read_validate_s"], " s", 2), "", "", "", "", ""],
    ]
    for name in ("duckdb", "clickhouse"):
        e = org[name]
        if e.get("status") != "ok":
            rows.append([name, e.get("status", "n/a"), "", "", "", "", ""])
            continue
        rows.append(
            [
                name,
                "",
                fmt(e["ingest_s"], " s", 2),
                fmt(e["reports_per_s"], "/s", 0),
                fmt(e["insights_s"] * 1000, " ms", 1),
                fmt(e["cli_ingest_s"], " s", 2),
                fmt(e["cli_insights_s"] * 1000, " ms", 0),
            ]
        )
    same = {True: "yes", False: "NO", None: "n/a"}[org.get("identical_answers")]
    parts.append(
        render_table(
            f"5. org: {org['n']:,} share reports, batches of {org['batch']:,}; "
            f"identical answers: {same}",
            ["step", "time", "ingest", "reports", "insights", "CLI ingest", "CLI insights"],
            rows,
        )
    )


def report(results: dict[str, Any]) -> str:
    meta = results["meta"]
    parts = [
        f"flowspec-telemetry benchmark  {meta['date']}  {meta['machine']}\n"
        f"python {meta['python_version']} ({meta['python']}), regular install: "
        f"{meta['regular_install']}, .pyc present: {meta['pyc']}\n"
        f"load average before/after: {meta['load_before']} / {meta['load_after']}\n"
    ]
    for section in (
        _section_inproc,
        _section_cold,
        _section_import,
        _section_readers,
        _section_archived,
        _section_org,
        _section_weekly,
        _section_collector,
    ):
        section(results, parts)
    return "\n".join(parts)


def flat_sizes(readers: dict[str, Any]) -> str:
    small, large = readers["flat_pair"]
    return f"{small:,} vs {large:,} events"


def memory_flatness(readers: dict[str, Any]) -> None:
    """Compare peak memory of the largest size with the one a tenth of it (100k vs 1M)."""
    sizes = sorted(int(s) for s in readers["sizes"])
    if len(sizes) < 2:
        return
    large = sizes[-1]
    small = max((s for s in sizes if s <= large // 5), default=sizes[-2])
    readers["flat_pair"] = [small, large]
    flat: dict[str, Any] = {}
    for name, big in readers["sizes"][str(large)]["ops"].items():
        little = readers["sizes"][str(small)]["ops"].get(name, {})
        if big.get("status") != "ok" or little.get("status") != "ok":
            continue
        growth = big["peak_mb"] / little["peak_mb"]
        flat[name] = {
            "mb_small": little["peak_mb"],
            "mb_large": big["peak_mb"],
            "growth": growth,
            "flat": big["peak_mb"] <= little["peak_mb"] * 1.25 + 2,
        }
    readers["memory_flat"] = flat


# ------------------------------------------------------------------------ main


def load_average() -> str:
    with contextlib.suppress(OSError):
        return " ".join(f"{x:.2f}" for x in os.getloadavg())
    return "?"


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    p.add_argument("--quick", action="store_true", help="fewer repetitions, no 1M history")
    p.add_argument("--sizes", help="history sizes, comma separated (default 10000,100000,1000000)")
    p.add_argument("--json", action="store_true", help="print the results as JSON, not a table")
    p.add_argument(
        "--python",
        type=Path,
        help="interpreter of an existing regular install to measure (default: build a venv)",
    )
    p.add_argument(
        "--workdir",
        type=Path,
        help="keep the venv and generated histories here and reuse them (default: a temp dir)",
    )
    p.add_argument("--events", type=int, help="track() calls per in-process case (default 10000)")
    p.add_argument("--cold-reps", type=int, help="cold-start runs per command (default 40)")
    p.add_argument("--org-reports", type=int, help="share reports for org (default 10000)")
    p.add_argument(
        "--ten-million",
        action="store_true",
        help="also a 10M-event archived history (~4 GB of lines to generate; slow)",
    )
    p.add_argument(
        "--only",
        default="inproc,cold,import,readers,archived,org,weekly,collector",
        help=(
            "comma-separated subset of: inproc, cold, import, readers, archived, org, weekly, "
            "collector"
        ),
    )
    return p.parse_args(argv)


def _run_archived(
    args: argparse.Namespace, info: dict[str, Any], python: Path, work: Path, env: dict[str, str]
) -> dict[str, Any]:
    big = [10_000_000] if args.ten_million else []
    sizes = [100_000] if args.quick else [1_000_000, *big]
    log(f"readers over archives at {', '.join(f'{s:,}' for s in sizes)} events")
    return measure_archived(
        info=info,
        python=python,
        data=work / "data",
        env=env,
        sizes=sizes,
        reps=2 if args.quick else 3,
    )


def main(argv: Sequence[str] | None = None) -> int:  # noqa: PLR0915 - one flat list of sections
    args = parse_args(argv)
    only = set(args.only.split(","))
    default_sizes = "10000,100000" if args.quick else "10000,100000,1000000"
    sizes = [int(s.replace("_", "")) for s in (args.sizes or default_sizes).split(",") if s]
    events = args.events or (2000 if args.quick else 10_000)
    cold_reps = args.cold_reps or (12 if args.quick else 40)
    keep = args.workdir is not None
    work = (args.workdir or Path(tempfile.mkdtemp(prefix="flowspec-telemetry-bench-"))).resolve()
    work.mkdir(parents=True, exist_ok=True)
    home = work / "home"
    home.mkdir(exist_ok=True)
    env = child_env(home)
    load_before = load_average()
    try:
        python = args.python.absolute() if args.python else build_venv(work)
        info = inspect_install(python, env, work)
        if not info["regular_install"]:
            log("WARNING: this is not a regular install (editable?); cold start is not comparable")
        if info["pyc_missing"]:
            log(f"WARNING: {len(info['pyc_missing'])} modules have no .pyc: {info['pyc_missing']}")
        results: dict[str, Any] = {
            "meta": {
                "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
                "machine": f"{platform.system()} {platform.machine()}, {os.cpu_count()} cores",
                "python": info["python"],
                "python_version": info["python_version"],
                "package_version": info["version"],
                "regular_install": info["regular_install"],
                "pyc": f"{info['py_files'] - len(info['pyc_missing'])}/{info['py_files']}",
                "PYTHONDONTWRITEBYTECODE": os.environ.get("PYTHONDONTWRITEBYTECODE", ""),
                "peak_memory_by": "/usr/bin/time -f %M" if TIME_BIN else "wait4 (includes harness)",
                "load_before": load_before,
            }
        }
        if "inproc" in only:
            log(f"in-process track(): {events:,} events per case")
            results["inproc"] = measure_inproc(python, work, env, events, 20 if args.quick else 100)
        if "cold" in only:
            log(f"cold start: {cold_reps} runs per command")
            results["cold"] = measure_cold(info, python, work, env, cold_reps)
        if "import" in only:
            log("import time")
            if not (work / "cold-on").exists():
                make_project(work / "cold-on", python, env, consent_yes=True)
            results["import"] = measure_import(python, work, env, 5 if args.quick else 15)
        if "readers" in only:
            log(f"readers at {', '.join(f'{s:,}' for s in sizes)} events")
            readers = measure_readers(
                info=info,
                python=python,
                data=work / "data",
                env=env,
                sizes=sizes,
                reps_small=3 if args.quick else 5,
                reps_large=1 if args.quick else 3,
            )
            memory_flatness(readers)
            results["readers"] = readers
        if "archived" in only:
            results["archived"] = _run_archived(args, info, python, work, env)
        if "org" in only:
            results["org"] = measure_org(python, work, env, args.org_reports or 10_000)
        if "weekly" in only:
            results["weekly"] = measure_weekly(
                python,
                work,
                env,
                100_000 if args.quick else 1_000_000,
                args.org_reports or (1_000 if args.quick else 10_000),
            )
        if "collector" in only:
            results["collector"] = measure_collector(
                python, work, env, 1_000 if args.quick else 8_000, 8
            )
        results["meta"]["load_after"] = load_average()
    finally:
        if not keep:
            shutil.rmtree(work, ignore_errors=True)
    if args.json:
        json.dump(results, sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        sys.stdout.write(report(results))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
