"""Who said yes: the layered consent decision and the records behind it.

Telemetry is opt-in and off by default. The decision is made per call by the
first rule that applies, and `decide()` returns the rule too, so `status` can
tell a person *why* telemetry is on or off:

1. `DO_NOT_TRACK=1` or `FLOWSPEC_TELEMETRY_DISABLED=1` -> off.
2. `FLOWSPEC_TELEMETRY_ENABLED=1` / `=0` -> on / off for that process.
3. The committed workflow file's `telemetry.enabled: false` -> off (a team
   veto). `true` there only allows; it never opts a person in.
4. The person's recorded answer, project-local over user-global. A record made
   for an older notice version counts as not asked.
5. Otherwise off.
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping
from enum import StrEnum

from flowspec_telemetry.core._files import write_private
from flowspec_telemetry.core.errors import TelemetryError
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames

TYPE_CHECKING = False
if TYPE_CHECKING:  # the tracking path never imports typing or pathlib
    from pathlib import Path
    from typing import Any, Final

    from flowspec_telemetry.core.names import StrPath

NOTICE_VERSION: Final = 1
CONFIG_FILE: Final = "telemetry-config.json"
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})


class Rule(StrEnum):
    """Which rule decided; the values are what `status` prints."""

    DO_NOT_TRACK = "DO_NOT_TRACK is set"
    ENV_DISABLED = "{prefix}TELEMETRY_DISABLED is set"
    ENV_ENABLED = "{prefix}TELEMETRY_ENABLED is set to yes in the environment"
    ENV_NOT_ENABLED = "{prefix}TELEMETRY_ENABLED is set to no in the environment"
    TEAM_POLICY = "team policy: telemetry.enabled is false in {workflow}"
    PROJECT_ANSWER = "your answer for this project"
    GLOBAL_ANSWER = "your global answer"
    NOT_ASKED = "not asked yet (telemetry is off until you say yes)"


class ConsentFileError(TelemetryError, ValueError):
    """A consent record that is not a JSON object we understand."""

    def __init__(self, path: StrPath, reason: str, *, unreadable: bool = False) -> None:
        if unreadable:
            message = f"{path} cannot be read ({reason}); check its owner and permissions"
        else:
            message = (
                f"{path} is corrupt ({reason}); "
                "fix it or delete it and run `enable` or `disable` again"
            )
        super().__init__(message)
        self.path = path


class ConsentRecord:
    """A person's answer as stored on disk."""

    __slots__ = ("answer", "ask_again_after", "decided_at", "enabled", "notice_version")

    def __init__(
        self,
        enabled: bool,
        decided_at: str,
        notice_version: int,
        answer: str = "yes",  # "yes", "no" or "later"
        ask_again_after: str | None = None,
    ) -> None:
        self.enabled = enabled
        self.decided_at = decided_at
        self.notice_version = notice_version
        self.answer = answer
        self.ask_again_after = ask_again_after

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConsentRecord) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((self.enabled, self.decided_at, self.notice_version, self.answer))

    def __repr__(self) -> str:
        return f"ConsentRecord({self.to_json()!r})"

    def current(self) -> bool:
        """Whether it answers the notice people see today."""
        return self.notice_version >= NOTICE_VERSION

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "enabled": self.enabled,
            "answer": self.answer,
            "decided_at": self.decided_at,
            "notice_version": self.notice_version,
        }
        if self.ask_again_after:
            data["ask_again_after"] = self.ask_again_after
        return data


class Decision:
    """The outcome of `decide()`: on or off, and the rule that said so."""

    __slots__ = ("enabled", "names", "rule", "warning")

    def __init__(
        self,
        enabled: bool,
        rule: Rule,
        names: ToolNames = FLOWSPEC,
        warning: str | None = None,  # e.g. a corrupt record that was ignored
    ) -> None:
        self.enabled = enabled
        self.rule = rule
        self.names = names
        self.warning = warning

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Decision) and (
            self.enabled,
            self.rule,
            self.names,
            self.warning,
        ) == (other.enabled, other.rule, other.names, other.warning)

    def __hash__(self) -> int:
        return hash((self.enabled, self.rule))

    def __repr__(self) -> str:
        return f"Decision(enabled={self.enabled}, rule={self.rule.name})"

    @property
    def reason(self) -> str:
        return self.rule.value.format(
            prefix=self.names.env_prefix, workflow=self.names.workflow_file
        )


# On POSIX CPython, `os.environ` keeps its bytes in `_data`; reading that dict
# directly costs ~40 ns a key instead of ~500 ns through the str-encoding
# mapping, which matters on a path that runs on every `track()` call. Any other
# platform, or a host that replaced `os.environ`, takes the public route.
_ENVIRON = os.environ
_RAW_ENV = getattr(os.environ, "_data", None) if os.name == "posix" else None
_env_keys: dict[str, tuple[bytes, bytes, bytes]] = {}


def env_rule(
    names: ToolNames = FLOWSPEC, environ: Mapping[str, str] | None = None
) -> Decision | None:
    """Rules 1 and 2; cheap enough to run on every call."""
    if environ is None and isinstance(_RAW_ENV, dict) and os.environ is _ENVIRON:
        keys = _env_keys.get(names.env_prefix)
        if keys is None:
            prefix = names.env_prefix
            keys = _env_keys[prefix] = (
                b"DO_NOT_TRACK",
                os.fsencode(prefix + "TELEMETRY_DISABLED"),
                os.fsencode(prefix + "TELEMETRY_ENABLED"),
            )
        raw = [_RAW_ENV.get(k) for k in keys]
        if raw[0] is None and raw[1] is None and raw[2] is None:
            return None  # the usual case: none of them is set
        values = [os.fsdecode(v) if isinstance(v, bytes) else "" for v in raw]
        return _env_decision(names, *values)
    env = os.environ if environ is None else environ
    prefix = names.env_prefix
    return _env_decision(
        names,
        env.get("DO_NOT_TRACK", ""),
        env.get(prefix + "TELEMETRY_DISABLED", ""),
        env.get(prefix + "TELEMETRY_ENABLED", ""),
    )


def _env_decision(names: ToolNames, dnt: str, disabled: str, enabled: str) -> Decision | None:
    if dnt.strip().lower() in _TRUE:
        return Decision(False, Rule.DO_NOT_TRACK, names)
    if disabled.strip().lower() in _TRUE:
        return Decision(False, Rule.ENV_DISABLED, names)
    forced = enabled.strip().lower()
    if forced in _TRUE:
        return Decision(True, Rule.ENV_ENABLED, names)
    if forced in _FALSE:
        return Decision(False, Rule.ENV_NOT_ENABLED, names)
    return None


def project_config_file(root: StrPath, names: ToolNames = FLOWSPEC) -> str:
    return os.path.join(root, names.project_dir, CONFIG_FILE)


def global_config_file(names: ToolNames = FLOWSPEC) -> str:
    return os.path.join(names.config_dir(), CONFIG_FILE)


def project_config_path(root: StrPath, names: ToolNames = FLOWSPEC) -> Path:
    """`project_config_file` as a `Path`."""
    from pathlib import Path

    return Path(project_config_file(root, names))


def global_config_path(names: ToolNames = FLOWSPEC) -> Path:
    """`global_config_file` as a `Path`."""
    from pathlib import Path

    return Path(global_config_file(names))


def read_record(path: StrPath) -> ConsentRecord | None:
    """The record at `path`, None if absent; `ConsentFileError` if unreadable as one."""
    try:
        with open(path, "rb") as fh:
            raw = fh.read(65536)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConsentFileError(path, "it is a folder") from None
    except OSError as exc:
        raise ConsentFileError(path, exc.strerror or "unreadable", unreadable=True) from None
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise ConsentFileError(path, "not valid JSON") from None
    if not isinstance(data, dict):
        raise ConsentFileError(path, f"a JSON {type(data).__name__}, not an object")
    enabled = data.get("enabled")
    version = data.get("notice_version", 0)
    if not isinstance(enabled, bool):
        raise ConsentFileError(path, "`enabled` must be true or false")
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConsentFileError(path, "`notice_version` must be a whole number")
    answer = data.get("answer")
    if answer not in ("yes", "no", "later"):
        answer = "yes" if enabled else "no"
    later = data.get("ask_again_after")
    return ConsentRecord(
        enabled=enabled,
        decided_at=str(data.get("decided_at", "")),
        notice_version=version,
        answer=answer,
        ask_again_after=later if isinstance(later, str) else None,
    )


def write_record(path: StrPath, record: ConsentRecord) -> None:
    """Write whole or not at all (`core._files.write_private`), folder 0700, file 0600."""
    folder = os.path.dirname(os.fspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    write_private(path, (json.dumps(record.to_json(), indent=2) + "\n").encode())


def new_record(answer: str, *, ask_again_after: str | None = None) -> ConsentRecord:
    """A record of `answer` ("yes", "no", "later") made now for the current notice."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return ConsentRecord(
        enabled=answer == "yes",
        decided_at=now,
        notice_version=NOTICE_VERSION,
        answer=answer,
        ask_again_after=ask_again_after,
    )


def recorded_answer(root: StrPath | None, names: ToolNames = FLOWSPEC) -> Decision:
    """Rule 4 (and 5): the project's record over the global one.

    A corrupt record counts as not asked (telemetry stays off) and is named in
    `Decision.warning`, so `status` can say how to fix it.
    """
    warning = None
    candidates: list[tuple[str, Rule]] = []
    if root is not None:
        candidates.append((project_config_file(root, names), Rule.PROJECT_ANSWER))
    candidates.append((global_config_file(names), Rule.GLOBAL_ANSWER))
    for path, rule in candidates:
        try:
            record = read_record(path)
        except ConsentFileError as exc:
            warning = warning or str(exc)
            continue
        if record is not None and record.current():
            return Decision(record.enabled, rule, names, warning)
    return Decision(False, Rule.NOT_ASKED, names, warning)


def decide(
    root: StrPath | None,
    *,
    names: ToolNames = FLOWSPEC,
    team_allows: Callable[[], bool] = lambda: True,
    environ: Mapping[str, str] | None = None,
    lazy_policy: bool = False,
) -> Decision:
    """Apply rules 1-5 in order.

    `team_allows` reads the workflow file's policy; it may be costly (YAML), so
    with `lazy_policy=True` it is consulted only when the person's answer is
    yes. The boolean is the same either way (a veto can only turn a yes into a
    no); only the reported rule differs, which is why `status` passes False.
    """
    by_env = env_rule(names, environ)
    if by_env is not None:
        return by_env
    if not lazy_policy and not team_allows():
        return Decision(False, Rule.TEAM_POLICY, names)
    answer = recorded_answer(root, names)
    if answer.enabled and lazy_policy and not team_allows():
        return Decision(False, Rule.TEAM_POLICY, names)
    return answer
