"""Consent to share, apart from consent to record: the three modes off / local / share.

Recording and sharing are separate questions. The answer to the second lives
in the same consent file as the first, as a top-level key

    "share": {"answer": "yes" | "no", "decided_at": "YYYY-MM-DDTHH:MM:SSZ",
              "notice_version": N}

(agreed with the consent records' owner; flowspec's own rewrite of the file
drops it, which reads as "not shared": fail closed). The mode is:

- `off`: nothing is recorded (the recording decision says no, by any rule);
- `local`: recorded, and only the person sees it; nothing is ever prepared
  for sharing (no share answer, or a "no" in any record);
- `share`: recorded, and a yes to sharing for the current share notice in a
  record the person made (a regular file, not a link, owned by them);
  weekly reports are then prepared for them to review, from events recorded
  after `decided_at` only. No environment variable ever turns sharing on.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Literal

from flowspec_telemetry.consent.answers import current_decision
from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core._files import write_private
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames

__all__ = [
    "SHARE_NOTICE",
    "SHARE_NOTICE_VERSION",
    "Mode",
    "ShareDecision",
    "record_share_answer",
    "share_decision",
]

SHARE_NOTICE_VERSION: Final = 1
Mode = Literal["off", "local", "share"]
_MAX_BYTES: Final = 65536


@dataclass(frozen=True, slots=True)
class ShareDecision:
    """The mode, the time from which events may be shared, and the rule that decided."""

    mode: Mode
    share_since: str | None
    rule: str


def _answer(record: dict[str, Any] | None) -> tuple[str | None, str | None]:
    share = record.get("share") if record else None
    if not isinstance(share, dict):
        return None, None
    answer, when, version = (
        share.get("answer"),
        share.get("decided_at"),
        share.get("notice_version"),
    )
    if answer == "no":
        return "no", None
    if (
        answer == "yes"
        and isinstance(when, str)
        and len(when) == 20
        and isinstance(version, int)
        and version >= SHARE_NOTICE_VERSION
    ):
        return "yes", when
    return None, None


def share_decision(root: Path | None, names: ToolNames = FLOWSPEC) -> ShareDecision:
    """off / local / share for this project, and why."""
    decision = current_decision(root, names)
    if not decision.enabled:
        return ShareDecision("off", None, decision.reason)
    paths = []
    if root is not None:
        paths.append(
            (
                consent_rules.project_config_path(root, names),
                "your answer to sharing for this project",
            )
        )
    paths.append((consent_rules.global_config_path(names), "your global answer to sharing"))
    found = [
        (_trusted(path, project=i == 0 and root is not None), rule)
        for i, (path, rule) in enumerate(paths)
    ]
    for (record, _), _rule in found:
        if _answer(record)[0] == "no":
            return ShareDecision("local", None, "you said no to sharing: recording only")
    for (record, mine), rule in found:
        answer, since = _answer(record)
        if answer == "yes" and mine:
            return ShareDecision("share", since, rule)
    return ShareDecision("local", None, "not asked to share: recording only, nothing leaves")


def _trusted(path: Path, *, project: bool) -> tuple[dict[str, Any] | None, bool]:
    """The record's keys, and whether a yes in it counts: the trust rule of the answer to
    recording (`consent_rules.distrust`: the person's own file, for the current notice, not
    tracked by git, not behind a link), so both questions trust the same files."""
    try:
        record = consent_rules.read_record(path)
    except consent_rules.ConsentFileError:
        return None, False
    if record is None:
        return None, False
    return record.keys, consent_rules.distrust(record, path, project=project) is None


SHARE_NOTICE: Final = """\
Sharing is a second question, apart from recording. If you say yes:

- For each ISO week that is over (Monday to Sunday, UTC), from now on, a
  share report can be made for you to review: `report --share FILE --preview`
  prints it, `report --share FILE` writes it. This package sends nothing by
  itself; you or your tool decide where the file goes.
- It holds only counts of catalog roles, commands and agents for that week,
  with noise on every cell: at most a bounded amount of what you did counts
  (per cell and per table), and the noise makes the report
  epsilon-differentially private for you and that week (epsilon 4 unless you
  choose less). Figures are shown to others only summed over at least 5 people.
- A week is shared once; its ids cannot be linked to you or to your other
  weeks; the privacy loss is summed in a local ledger against a yearly budget.
- `view --shared` lists what you shared; `disable --share` stops it; nothing
  recorded before you said yes is ever shared.
"""


def record_share_answer(
    root: Path | None, answer: Literal["yes", "no"], names: ToolNames = FLOWSPEC
) -> Path:
    """Record a yes or no to sharing beside your answer to recording, keeping its other keys.

    The project's record when there is one, else the global one; without
    either (no answer to recording yet) a ValueError says to answer that first.
    """
    candidates = []
    if root is not None:
        candidates.append(consent_rules.project_config_path(root, names))
    candidates.append(consent_rules.global_config_path(names))
    for i, path in enumerate(candidates):
        record, mine = _trusted(path, project=i == 0 and root is not None)
        if record is not None and record.get("enabled") is True and mine:
            break
    else:
        raise ValueError(
            "answer the first question first: sharing needs a yes to recording (enable)"
        )
    data = dict(record)
    data["share"] = {
        "answer": answer,
        "decided_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "notice_version": SHARE_NOTICE_VERSION,
    }
    write_private(path, (json.dumps(data, indent=2) + "\n").encode())
    return path
