"""Issue 14, what a new user trips over: each point through the real command.

Typer commands run in-process through typer's `CliRunner`; what needs a real
process runs the installed console script: `track` (the fast path), a real
pseudo-terminal of 60, 80 or 120 columns (`_pty.run_on_pty`), and a pipe
whose reader goes away.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from rich.cells import cell_len

import flowspec_telemetry
from flowspec_telemetry.consent import prompt
from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core.names import NOTICE_ANCHOR, NOTICE_URL

from ..conftest import CONSOLE_SCRIPT, read_events, run_cli
from ._pty import run_on_pty

WIDTHS = (60, 80, 120)
README = Path(__file__).parents[2] / "README.md"


@pytest.fixture
def here(consented: Path) -> Iterator[Path]:
    """A consented project as the current folder (typer commands find it from the cwd)."""
    old = os.getcwd()
    os.chdir(consented)
    try:
        yield consented
    finally:
        os.chdir(old)


def invoke(*args: str, cwd: Path | None = None) -> tuple[int, str, str]:
    """A typer command as the user runs it (`run_cli`: through the real entry point)."""
    result = run_cli(*args, cwd=cwd or Path.cwd())
    return result.returncode, result.stdout, result.stderr


def _track_sample(root: Path) -> list[dict[str, object]]:
    """Events with long, hashed and handoff values, through the public API."""
    t = flowspec_telemetry.default_tracker()
    t.invalidate()
    t.track("role.selected", role="dev", source="init", project_root=root)
    t.track("role.changed", role="sec", previous_role="dev", project_root=root)
    t.track(
        "agent.invoked",
        role="dev",
        agent="@secure-by-design-engineer",
        command="/flow:implement",
        project_root=root,
    )
    t.track(
        "command.completed",
        role="Data Scientist and Machine Learning Engineer",  # outside the catalog: a hash
        command="/flow:implement",
        duration_ms=123456,
        outcome="success",
        invocation_id="inv_01JDQ7ZK3M8W4X2Y6B9C0D1E2F",
        project_root=root,
    )
    t.track(
        "handoff.clicked",
        from_agent="@pm-planner",
        to_agent="@software-architect",
        project_root=root,
    )
    t.close()
    return read_events(root)


def _values(event: dict[str, object]) -> list[str]:
    """What `view` must show of an event, each value whole."""
    ts = str(event["timestamp"])
    shown = [ts[:19].replace("T", " "), str(event["event_type"])]
    shown += [str(event[k]) for k in ("role", "command", "agent", "previous_role") if event.get(k)]
    handoff = event.get("handoff")
    if isinstance(handoff, dict):
        shown += [str(handoff["from_agent"]), str(handoff["to_agent"])]
    if event.get("duration_ms") is not None:
        shown.append(f"duration_ms={event['duration_ms']}")
    return shown


# ----------------------------------------------------------------- 1: options


def test_share_preview_is_never_a_file_name(here: Path) -> None:
    _track_sample(here)
    code, _, err = invoke("report", "--share", "--preview")
    assert code == 2
    assert "'--preview' looks like an option, not a file name" in err
    assert not (here / "--preview").exists()
    assert not (here / ".flowspec" / "telemetry-shared.jsonl").exists()  # no ledger entry
    # What the error message suggests reaches the share report itself (which
    # then wants sharing agreed to): `--preview` is taken as the flag it is.
    code, _, err = invoke("report", "--preview")
    assert "sharing is off" in err
    assert "looks like an option" not in err
    for args in (
        ("report", "--html", "--force"),
        ("export", "-o", "--json"),
        ("view", "--since", "--json"),
        ("install-hooks", "--project", "--dry-run"),
    ):
        code, _, err = invoke(*args)
        assert code == 2, args
        assert "looks like an option, not a file name" in err, args
    assert sorted(p.name for p in here.iterdir()) == [".flowspec", "flowspec_workflow.yml"]
    # A file whose name starts with "-" can still be named, by its full path.
    code, _, err = invoke("report", "--html", str(here / "-odd.html"))
    assert code == 0, err
    assert (here / "-odd.html").exists()


def test_share_only_options_are_refused_with_html(here: Path) -> None:
    _track_sample(here)
    for extra, named in ((("--epsilon", "1"), "--epsilon"), (("--k", "3"), "--k")):
        code, _, err = invoke("report", "--html", "r.html", *extra)
        assert code == 2
        assert f"{named} only applies to a share report" in err
    code, _, err = invoke("report", "--html", "r.html", "--k", "3", "--epsilon", "1")
    assert "--k and --epsilon only apply to a share report" in err
    assert not (here / "r.html").exists()


# ------------------------------------------------------------ 2: view at widths


@pytest.mark.parametrize("cols", WIDTHS)
def test_view_on_a_terminal_keeps_every_value_whole(here: Path, cols: int) -> None:
    events = _track_sample(here)
    result = run_on_pty("view", cwd=here, cols=cols)
    assert result.returncode == 0, result.output
    lines = result.output.splitlines()
    assert all(cell_len(x) <= cols for x in lines), [x for x in lines if cell_len(x) > cols]
    for event in events:
        for value in _values(event):
            assert any(value in x for x in lines), (cols, value, result.output)
    if cols == 60:  # far too narrow for the table: one entry per event, not 40 lines each
        assert len(lines) <= 3 * len(events) + 1, result.output
        assert "┃" not in result.output


def test_view_into_a_pipe_is_one_line_per_event(here: Path) -> None:
    events = _track_sample(here)
    code, out, _ = invoke("view")
    assert code == 0
    lines = out.splitlines()
    assert len(lines) == len(events)
    for line, event in zip(lines, events, strict=True):
        for value in _values(event):
            assert value in line, (value, line)
    code, out, _ = invoke("view", "-n", "0")  # streamed: the same form
    assert out.splitlines() == lines


# ------------------------------------------------------------------ 3: prompt


@pytest.mark.parametrize("cols", WIDTHS)
def test_prompt_is_short_wrapped_and_asks_on_screen(project: Path, cols: int) -> None:
    result = run_on_pty("prompt", cwd=project, cols=cols, rows=24, answers=[("[l]ater", "n\n")])
    assert result.returncode == 0, result.output
    before = result.output[: result.output.index(prompt.QUESTION)]
    lines = before.splitlines()
    assert 3 <= len(lines) <= (7 if cols == 60 else 5), result.output
    assert all(cell_len(x) <= cols for x in lines)
    # No word broken across lines: every word of the short notice is whole on one line.
    words = {w for x in prompt.short_notice(project) for w in x.split()}
    on_screen = {w for x in lines for w in x.split()}
    assert words <= on_screen, words - on_screen
    assert any(NOTICE_URL in x for x in lines)
    record = consent_rules.read_record(consent_rules.global_config_path())
    assert record is not None
    assert record.answer == "no"


def test_ctrl_c_at_the_prompt_exits_130_and_records_nothing(project: Path) -> None:
    result = run_on_pty("prompt", cwd=project, interrupt_after="[l]ater")
    assert result.returncode == 130, result.output
    assert not consent_rules.global_config_path().exists()
    assert not (project / ".flowspec").exists()


def test_prompt_says_why_it_does_not_ask(project: Path) -> None:
    result = run_cli("prompt", cwd=project)
    assert (result.returncode, result.stdout) == (0, "")
    assert result.stderr == "not asked: not an interactive terminal.\n"
    result = run_cli("prompt", cwd=project, env={"CI": "true"})
    assert result.stderr == "not asked: CI is set.\n"


def test_the_readme_anchor_is_where_prompt_status_and_help_point(project: Path) -> None:
    assert f'<a id="{NOTICE_ANCHOR}"></a>' in README.read_text()
    assert NOTICE_URL in invoke("status", cwd=project)[1]
    assert NOTICE_URL in " ".join(invoke("--help", cwd=project)[1].split())
    assert any(NOTICE_URL in x for x in prompt.short_notice(project))


# ------------------------------------------------------- 5 and 6: track, debug


def _debug(*args: str, cwd: Path, **env: str) -> str:
    result = run_cli("track", *args, cwd=cwd, env={"FLOWSPEC_TELEMETRY_DEBUG": "1", **env})
    assert result.returncode == 0
    return result.stderr


def test_debug_says_why_nothing_was_recorded(project: Path, tmp_path: Path) -> None:
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    assert "not recorded (command.started): no flowspec project here" in _debug(
        "command.started", cwd=outside
    )
    assert "not recorded (command.started): telemetry is off: not asked yet" in _debug(
        "command.started", cwd=project
    )
    assert "telemetry is off: DO_NOT_TRACK is set" in _debug(
        "command.started", cwd=project, DO_NOT_TRACK="1"
    )
    assert not (project / ".flowspec").exists()


def test_debug_hints_at_a_mistyped_catalog_value(consented: Path) -> None:
    err = _debug("command.started", "--command", "/flow:implemnt", cwd=consented)
    assert (
        "the command given is not in the role catalog, so it is stored as a keyed hash "
        "(did you mean '/flow:implement'?)" in err
    )
    assert "/flow:implemnt" not in err  # the value given is never echoed
    assert "recorded {" in err
    quiet = run_cli("track", "command.started", "--command", "/flow:implemnt", cwd=consented)
    assert quiet.stderr == ""  # without debug: nothing on stderr


def test_a_shell_pairs_start_and_end_through_the_printed_invocation_id(consented: Path) -> None:
    script = (
        f'inv=$("{CONSOLE_SCRIPT}" track command.started --command /flow:implement) && '
        f'"{CONSOLE_SCRIPT}" track command.completed --command /flow:implement '
        '--invocation-id "$inv" --duration-ms 42 -q && '
        f'"{CONSOLE_SCRIPT}" track role.changed --role sec --previous-role dev -q && echo "$inv"'
    )
    result = subprocess.run(
        ["bash", "-c", script], cwd=consented, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    inv = result.stdout.strip()
    assert inv.startswith("inv_") and len(inv) == 30
    started, completed, changed = read_events(consented)
    assert started["invocation_id"] == completed["invocation_id"] == inv
    assert (changed["role"], changed["previous_role"]) == ("sec", "dev")
    _, out, _ = invoke("insights", "--json", cwd=consented)
    assert json.loads(out)["completion"]["overall"]["numerator"] == 1


def test_did_you_mean_for_an_event_type(here: Path) -> None:
    result = run_cli("track", "comand.started", cwd=here)
    assert result.returncode == 2
    assert "(did you mean 'command.started'?)" in result.stderr
    for args in (
        ("view", "--type", "agent.invokd"),
        ("export", "-o", "-", "--type", "handoff.ofered"),
    ):
        code, _, err = invoke(*args, *(() if "export" not in args else ("-f", "csv")))
        assert code == 2
        assert "did you mean" in err


# ------------------------------------------------------------------ 7: plurals


def test_one_is_singular(here: Path) -> None:
    flowspec_telemetry.default_tracker().invalidate()
    flowspec_telemetry.track("role.selected", role="dev", source="init", project_root=here)
    flowspec_telemetry.default_tracker().close()
    outputs = [invoke(*c)[1] for c in (("stats",), ("status",), ("insights",), ("dashboard",))]
    code, _, _ = invoke("report", "--html", "r.html")
    assert code == 0
    outputs.append((here / "r.html").read_text())
    text = "\n".join(outputs)
    for wrong in ("1 events", "1 active days", "1 weeks", "1 selections", "1 archives"):
        assert wrong not in text, wrong
    assert "1 event" in text and "1 selection at init" in text and "1 active day" in text


# --------------------------------------------------- 8, 10, 14: answers, notice


def test_half_the_handoffs_clicked_is_not_mostly_clicked(here: Path) -> None:
    t = flowspec_telemetry.default_tracker()
    t.invalidate()
    for i in range(10):
        kind = "handoff.clicked" if i % 2 else "handoff.offered"
        t.track(kind, from_agent="@pm-planner", to_agent="@software-architect", project_root=here)
    for _ in range(5):
        t.track(
            "handoff.offered",
            from_agent="@pm-planner",
            to_agent="@software-architect",
            project_root=here,
        )
    t.close()
    answer = json.loads(invoke("insights", "--json")[1])["handoffs"]["answer"]
    assert answer.startswith("Handoffs are clicked as often as ignored: click-through 50%")


def test_notice_outside_a_project_has_no_project_sample(tmp_path: Path) -> None:
    code, out, _ = invoke("notice", cwd=tmp_path)
    assert code == 0
    assert "for this project" not in out
    assert "Outside a project nothing is recorded" in out
    sample = next(x for x in out.splitlines() if x.strip().startswith("{"))
    assert "project_id" not in json.loads(sample)


def test_top_commands_say_what_they_count(here: Path) -> None:
    _track_sample(here)
    assert "Top commands (events naming each)" in invoke("stats")[1]
    assert "(runs: command.started)" in invoke("insights")[1]
    assert "Top commands, by runs" in invoke("dashboard")[1]


# ------------------------------------------------------------- 16: closed pipes


@pytest.mark.parametrize(
    "command",
    [
        "notice",
        "view -n 0 --json",
        "view -n 0",
        "export -f csv -o -",
        "stats",
        "insights",
        "dashboard",
        "schema",
        "status",
        "--help",
    ],
)
def test_a_closed_pipe_is_quiet_and_exit_0(here: Path, command: str) -> None:
    _track_sample(here)
    # The reader is gone before the first byte is written (`| head -c0`, made
    # certain): every write fails with EPIPE, not only a late one.
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.Popen(
            [str(CONSOLE_SCRIPT), *command.split()],
            cwd=here,
            stdout=write_end,
            stderr=subprocess.PIPE,
        )
    finally:
        os.close(write_end)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (0, b""), command


def test_track_into_a_closed_pipe_is_quiet_too(consented: Path) -> None:
    read_end, write_end = os.pipe()
    os.close(read_end)
    try:
        proc = subprocess.Popen(
            [str(CONSOLE_SCRIPT), "track", "command.started", "--command", "/flow:plan"],
            cwd=consented,
            stdout=write_end,
            stderr=subprocess.PIPE,
        )
    finally:
        os.close(write_end)
    _, err = proc.communicate(timeout=60)
    assert (proc.returncode, err) == (0, b"")
    assert [e["command"] for e in read_events(consented)] == ["/flow:plan"]  # still recorded


# ------------------------------------------------------------- 17: papercuts


def test_export_infers_the_format_and_filters(here: Path) -> None:
    events = _track_sample(here)
    code, out, err = invoke("export", "-o", "usage.csv")
    assert code == 0, err
    assert (here / "usage.csv").read_text().startswith("schema_version,event_id,")
    assert f"Exported {len(events)} events to usage.csv." in out
    code, out, _ = invoke("export", "-o", "one.jsonl", "--type", "role.changed")
    assert "Exported 1 event to one.jsonl." in out
    assert [json.loads(x)["event_type"] for x in (here / "one.jsonl").open()] == ["role.changed"]
    code, _, _ = invoke("export", "-o", "soon.json", "--since", "5m", "--until", "2999-01-01")
    assert code == 0
    assert len(json.loads((here / "soon.json").read_text())) == len(events)
    code, _, _ = invoke("export", "-o", "old.json", "--until", "2000-01-01")
    assert json.loads((here / "old.json").read_text()) == []
    # Any other name, and standard output, get JSON (flowspec's own export format).
    code, _, err = invoke("export", "-o", "usage.txt")
    assert code == 0, err
    assert len(json.loads((here / "usage.txt").read_text())) == len(events)
    code, out, _ = invoke("export", "-o", "-")
    assert len(json.loads(out)) == len(events)


def test_since_takes_minutes(here: Path) -> None:
    _track_sample(here)
    code, out, _ = invoke("view", "--since", "5m", "--json")
    assert code == 0
    assert len(out.splitlines()) == 5


def test_claude_code_flag_can_be_turned_off(here: Path) -> None:
    # `--claude-code` is no longer a flag that is on by default and cannot be
    # turned off: it names an adapter, the default only when none is named.
    code, out, _ = invoke("install-hooks", "--help")
    assert code == 0
    assert "[default: True]" not in out
    assert "--project DIR" in out


def test_help_names_values_and_lists_plumbing_last() -> None:
    for command in ("view", "export", "report", "stats", "insights", "dashboard"):
        out = invoke(command, "--help")[1]
        assert "<str>" not in out and "<path>" not in out, command
    assert "--since DATE" in invoke("view", "--help")[1]
    assert "--output FILE" in invoke("export", "--help")[1]
    assert "--html FILE" in invoke("report", "--help")[1]
    out = invoke("--help")[1]
    block = out.split("Commands:\n")[1].split("\n\n")[0]
    listed = [x.split()[0] for x in block.splitlines()]
    assert listed[:3] == ["status", "enable", "disable"]
    assert listed[-3:] == ["track", "hook", "install-hooks"]


# ------------------------------------------------------------ 12: dashboard


@pytest.fixture(scope="module")
def demo_project(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from flowspec_telemetry.demo import build_demo

    root = tmp_path_factory.mktemp("dash") / "demo"
    build_demo(root)
    return root


@pytest.mark.parametrize("cols", WIDTHS)
def test_dashboard_keeps_ids_and_rates_whole(demo_project: Path, cols: int) -> None:
    result = run_on_pty("dashboard", cwd=demo_project, cols=cols)
    assert result.returncode == 0, result.output
    lines = result.output.splitlines()
    assert all(cell_len(x) <= cols for x in lines)
    cut = [x for x in lines if "…" in x and "per week (" not in x]
    assert cut == [], cut  # no id, count, rate or duration cut short
    data = json.loads(run_cli("insights", "--json", cwd=demo_project).stdout)
    words = {w.strip("│,") for x in lines for w in x.split()}
    for role in data["commands"]["per_role"]:
        assert role in words, role
    for pair in data["handoffs"]["pairs"][:5]:
        value = pair["click_through"]["value"]
        assert f"{value * 100:.0f}%" in words
    for row in data["completion"]["commands"][:6]:
        assert row["command"] in words
