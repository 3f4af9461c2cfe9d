"""Commands about consent and disclosure: status, enable, disable, prompt, notice, schema."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table
from rich.text import Text

from flowspec_telemetry.cli._render import (
    cell,
    err,
    fail,
    human_bytes,
    line,
    out,
    plural,
    print_json,
    safe,
    wrap,
)
from flowspec_telemetry.cli.exit_codes import ExitCode
from flowspec_telemetry.consent import answers, notice, status
from flowspec_telemetry.core.consent_rules import ConsentFileError
from flowspec_telemetry.core.names import FLOWSPEC, NOTICE_URL
from flowspec_telemetry.core.project import find_project_root

_GLOBAL = typer.Option("--global", help="Record the answer for you, in every project (default).")
_PROJECT = typer.Option("--project", help="Record the answer for this project only.")


def _start() -> str:
    from flowspec_telemetry.cli._group import start_dir

    return start_dir()


def _here() -> Path | None:
    from flowspec_telemetry.cli._group import start_dir

    return find_project_root(start_dir(), FLOWSPEC)


def status_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Show whether telemetry is on, and why.

    Which rule decided, your answers, and what is stored where.
    """
    info = status.gather(_here())
    if as_json:
        print_json(info)
    else:
        _print_status(info)
    if info["warnings"]:
        fail(info["warnings"][0])
    if info["problems"]:
        fail(info["problems"][0], ExitCode.FAILURE)


def _print_status(info: dict[str, Any]) -> None:
    state = "ON" if info["enabled"] else "OFF"
    line(f"Telemetry is {state}: {info['reason']}.", "bold green" if info["enabled"] else "bold")
    env = ", ".join(f"{k}={safe(v, 20)}" for k, v in info["environment"].items() if v is not None)
    line(f"Environment: {env or 'none of ' + ', '.join(info['environment']) + ' is set'}")
    for scope, record in info["consent"].items():
        label = "Project answer" if scope == "project" else "Global answer"
        if record is None:
            line(f"{label}: none")
        elif record.get("corrupt"):
            line(
                f"{label}: {safe(record['path'], 300)} cannot be used "
                f"({safe(record['reason'], 200)}): telemetry stays off until it is fixed",
                "bold red",
            )
        else:
            line(f"{label}: {_answer_text(record)}")
    line(f"Notice version: {info['notice_version']} (`{notice.CLI} notice`, or {NOTICE_URL})")
    if info["project"] is None:
        line("Project: none here (no events are recorded outside a project).")
        return
    flowspec = info.get("flowspec_module")
    if flowspec is not None:
        text = _flowspec_text(flowspec, info["enabled"])
        if text:
            line(text, "" if flowspec["agrees"] or not flowspec["writer_on"] else "bold yellow")
    line(f"Project: {safe(info['project'], 300)}")
    line(f"Role catalog: {safe(info['catalog'] or info['catalog_source'], 400)}")
    policy = info["team_policy_detail"]
    if policy is not None:
        said = f"{policy['key']} is {policy['value']} in {policy['file']}"
        if policy["allows"]:
            line(f"Team policy: {safe(said, 300)} (allows; each person still decides)")
        else:
            line(f"Team policy: {safe(said, 300)} (a veto for everyone)", "bold")
    store = info["storage"]
    if store is not None:
        line(
            f"Events file: {safe(store['events_file'], 300)} "
            f"(+{plural(store['archives'], 'archive')})"
        )
        line(f"Stored: {plural(store['events'], 'event')}, {human_bytes(store['bytes'])}")
        if store["oldest"]:
            line(f"Oldest: {safe(store['oldest'])}   Newest: {safe(store['newest'])}")
    for note in info["tightened"]:
        line(f"Permissions: {safe(note, 500)}")
    for problem in info["problems"]:
        line(f"Problem: {safe(problem, 500)}", "bold red")
    shared = info.get("shared") or {"count": 0, "last": None}
    last = shared["last"]
    line(
        f"Share reports written: {shared['count']}"
        + (
            f" (last: {safe(last['file'], 100)} on {safe(last['written_at'])}, "
            f"period {safe(last['period'].get('start'))} to {safe(last['period'].get('end'))}; "
            "view --shared lists them)"
            if last
            else ""
        )
    )
    if info.get("shared"):
        mode, spent = shared["mode"], shared["budget"]
        line(
            f"Sharing: mode {mode['mode']} ({safe(mode['rule'], 200)}); privacy loss in the last "
            f"52 weeks: epsilon {spent['epsilon_last_52_weeks']:g} of the yearly budget "
            f"{spent['budget']:g}"
        )
    for warning in info["warnings"]:
        line(f"Warning: {safe(warning, 500)}", "bold red")


def _answer_text(record: dict[str, Any]) -> str:
    """One answer: what it says, when, who wrote it, and why it does not count if it does not."""
    by = " by flowspec's own module" if record["writer"] == "flowspec" else ""
    when = f" on {safe(record['decided_at'])}" if record["decided_at"] else ""
    version = (
        f" for notice version {record['notice_version']}" if record["writer"] != "flowspec" else ""
    )
    text = f"{record['answer']}{by}{when}{version} ({safe(record['path'], 300)})"
    if record["answer"] == "no":
        return text + " (a no always counts)"
    if not record["counts"]:
        return f"{text}; does not count: {safe(record['not_counted_because'], 300)}"
    return text


def _flowspec_text(flowspec: dict[str, Any], ours_on: bool) -> str:
    """What flowspec's own telemetry module does here, and how to stop it when it disagrees."""
    path = safe(flowspec["path"], 300)
    if flowspec["reads_enabled"] is None:
        return f"flowspec's own module: cannot read {path} either (it treats that as disabled)."
    if flowspec["writer_on"] and not ours_on:
        return (
            f"flowspec's own module is still ON here: it reads enabled: true in {path} and ignores "
            "DO_NOT_TRACK, your global answer and the team policy. Its writer "
            "(`flowspec telemetry track-role/track-agent/track-handoff`, as its templates call "
            "them) appends lines with a host-name hash to the events file. Stop it: "
            "`flowspec-telemetry disable --project` (or `flowspec telemetry disable`)."
        )
    if flowspec["writer_on"]:
        return (
            f"flowspec's own module: on here too (enabled: true in {path}), so "
            "`flowspec telemetry status` agrees."
        )
    if ours_on:
        return (
            f"flowspec's own module: off here (it reads only {path}, not your global answer), "
            "so `flowspec telemetry status` says Disabled; only this package records."
        )
    if not flowspec["installed"] and not Path(flowspec["path"]).exists():
        return ""
    return "flowspec's own module: off here too, so `flowspec telemetry status` agrees."


def _scope(global_: bool, project: bool) -> answers.Scope:
    if global_ and project:
        fail("choose one of --global and --project")
    return "project" if project else "global"


def _change(answer: str, scope: answers.Scope) -> answers.Change:
    try:
        return answers.record_answer(answer, scope=scope, project_root=_start())
    except ConsentFileError as exc:
        fail(str(exc))
    except answers.NoProjectError as exc:
        fail(f"{exc}; use --global or run this in a project", ExitCode.FAILURE)


def _report(change: answers.Change) -> None:
    verb = "enabled" if change.answer == "yes" else "disabled"
    who = "for you (every project)" if change.scope == "global" else "for this project"
    if change.changed:
        line(f"Telemetry {verb} {who}; recorded in {safe(str(change.path), 300)}.")
    else:
        where = safe(str(change.path), 300)
        line(f"Telemetry was already {verb} {who}; recorded again in {where}.")
    for other in change.also:
        line(
            f"Also recorded no in {safe(str(other), 300)}: flowspec's own module read yes there "
            "(its writer reads only that file)."
        )
    decision = change.decision
    if change.overridden:
        now = "on" if decision.enabled else "off"
        line(f"But it is still {now} here: {decision.reason}.", "bold yellow")
    else:
        line(f"It is now {'on' if decision.enabled else 'off'} here ({decision.reason}).")


def enable_cmd(
    global_: Annotated[bool, _GLOBAL] = False,
    project: Annotated[bool, _PROJECT] = False,
    yes: Annotated[
        bool, typer.Option("--yes", "-y", help="Do not show the privacy notice first.")
    ] = False,
    share: Annotated[
        bool,
        typer.Option("--share", help="Also agree to share weekly reports (a second question)."),
    ] = False,
) -> None:
    """Turn telemetry on (after showing the privacy notice)."""
    if share:
        _share("yes", quiet=yes)
        return
    scope = _scope(global_, project)
    if not yes:
        _print_notice(_here())
    _report(_change("yes", scope))


def _share(answer: str, *, quiet: bool) -> None:
    """`enable --share` / `disable --share`: the answer to sharing, apart from recording."""
    from flowspec_telemetry.consent._share import (
        SHARE_NOTICE,
        record_share_answer,
        share_decision,
    )

    root = _here()
    if answer == "yes" and not quiet:
        line(SHARE_NOTICE)
    try:
        path = record_share_answer(root, "yes" if answer == "yes" else "no", FLOWSPEC)
    except ValueError as exc:
        fail(str(exc), ExitCode.FAILURE)
    decision = share_decision(root, FLOWSPEC)
    line(
        f"Sharing {'on' if answer == 'yes' else 'off'}; recorded in {safe(str(path), 300)}. "
        f"Mode now: {decision.mode} ({safe(decision.rule, 200)})."
    )


def disable_cmd(
    global_: Annotated[bool, _GLOBAL] = False,
    project: Annotated[bool, _PROJECT] = False,
    share: Annotated[
        bool, typer.Option("--share", help="Only stop sharing; keep recording (mode local).")
    ] = False,
) -> None:
    """Turn telemetry off."""
    if share:
        _share("no", quiet=True)
        return
    _report(_change("no", _scope(global_, project)))


def prompt_cmd(
    telemetry: Annotated[
        bool | None,
        typer.Option(
            "--telemetry/--no-telemetry",
            help="Record yes or no without asking (what a host's own flag passes on).",
        ),
    ] = None,
) -> None:
    """Ask for consent once.

    Only on an interactive terminal; otherwise it says in one line why not.
    """
    from flowspec_telemetry.consent.prompt import maybe_prompt

    result = maybe_prompt(telemetry)
    if result.error:
        fail(result.error)
    if result.interrupted:
        raise typer.Exit(ExitCode.INTERRUPTED)
    if telemetry is not None and result.answer is not None:
        line(f"Recorded {result.answer} in {safe(str(result.path), 300)}.")
    elif not result.asked:
        # On stderr: why nothing was asked is a diagnosis, not output for a script.
        err.print(Text(f"{safe(result.reason, 500)}."), soft_wrap=True)


def _print_notice(root: Path | None) -> None:
    """The full notice, wrapped between words with its indent kept.

    Only the sample event stays one line (soft wrap): it is JSON to compare
    with `view --json`, and a line break added inside it would change it.
    """
    width = out.width if out.is_terminal else 0
    for section in notice.notice(root):
        line(section.title, "bold")
        for text in section.lines:
            clean = safe(text, 10_000)
            if not clean or clean.startswith("{"):
                line("  " + clean if clean else "")
                continue
            hang = "    " if clean.startswith("- ") else "  "
            line(wrap(clean.split(" "), width, first="  ", indent=hang, sep=" "))
        line("")


def notice_cmd() -> None:
    """Print the privacy notice."""
    _print_notice(_here())


def schema_cmd(
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON for scripts.")] = False,
) -> None:
    """Every event type and field, and how each value is treated."""
    data = notice.schema()
    if as_json:
        print_json(data)
        return
    fields = Table(title="Fields", title_justify="left")
    for name in ("field", "purpose", "stored as"):
        fields.add_column(name)
    for f in data["fields"]:
        fields.add_row(cell(f["name"]), cell(f["purpose"]), cell(f["sensitivity"]))
    out.print(fields)
    types = Table(title="Event types", title_justify="left")
    for name in ("event type", "purpose", "fields beyond the common ones"):
        types.add_column(name)
    for t in data["event_types"]:
        types.add_row(cell(t["event_type"]), cell(t["purpose"]), cell(", ".join(t["fields"])))
    out.print(types)
    line(f"Common fields: {', '.join(data['common_fields'])}")
    line("Never collected:", "bold")
    for item in data["never_collected"]:
        line(f"  - {item}")


def register(app: typer.Typer) -> None:
    app.command("status")(status_cmd)
    app.command("enable")(enable_cmd)
    app.command("disable")(disable_cmd)
    app.command("prompt")(prompt_cmd)
    app.command("notice")(notice_cmd)
    app.command("schema")(schema_cmd)
