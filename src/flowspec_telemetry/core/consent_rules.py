"""Who said yes: the layered consent decision and the records behind it.

Telemetry is opt-in and off by default. The decision is made per call by the
first rule that applies, and `decide()` returns the rule too, so `status` can
tell a person *why* telemetry is on or off:

1. `DO_NOT_TRACK` set to anything but empty or `0`, or
   `FLOWSPEC_TELEMETRY_DISABLED=1` -> off.
2. `FLOWSPEC_TELEMETRY_ENABLED=1` / `=0` -> on / off for that process.
3. The committed workflow file's team policy says no -> off (a team veto). A
   yes there only allows; it never opts a person in.
4. A project folder (`.flowspec/`) that belongs to another user -> off:
   nothing of yours is recorded into somebody else's folder.
5. A consent file that cannot be read as one (corrupt, a folder, a symbolic
   link in the project, a FIFO) -> off until it is fixed (fail closed: it
   may have been a no).
6. A **no** anywhere -> off. A no counts whoever wrote it and for whichever
   notice: this package, flowspec's own `flowspec telemetry disable`, a file
   in git or in a shared folder. Nobody is harmed by an extra no.
7. A **yes** (or a "later") counts only when the person gave it: the file is
   theirs (owned by the current user, a regular file, in a folder of theirs),
   it answers the current notice (a yes written by flowspec's own module, or
   for an older notice, means "ask again"), and a project answer is not
   tracked by git (a committed answer is somebody's answer, not the cloner's).
   The project's counting answer is taken over the global one.
8. Otherwise off (not asked).

The record format keeps flowspec's own keys (`enabled`, `consent_given_at`,
`consent_version`, `data_retention_days`, `metadata`) so flowspec's module
reads the same verdict from the same file, and adds this package's
(`answer`, `decided_at`, `notice_version`, ...). flowspec's own rewrite drops
our keys: what is left is read as flowspec's answer (rule 6 or 7). Keys we do
not know are kept on every rewrite.
"""

from __future__ import annotations

import errno
import json
import os
import stat
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

__all__ = [
    "CONFIG_FILE",
    "FLOWSPEC_KEYS",
    "FLOWSPEC_WRITER",
    "MAX_RECORD_BYTES",
    "NOTICE_VERSION",
    "WRITER",
    "ConsentFileError",
    "ConsentRecord",
    "Decision",
    "Rule",
    "decide",
    "distrust",
    "do_not_track",
    "env_rule",
    "foreign_folder",
    "global_config_file",
    "global_config_path",
    "new_record",
    "project_config_file",
    "project_config_path",
    "read_file",
    "read_record",
    "recorded_answer",
    "write_record",
]

NOTICE_VERSION: Final = 1
CONFIG_FILE: Final = "telemetry-config.json"
MAX_RECORD_BYTES: Final = 65536
WRITER: Final = "flowspec-telemetry"  # `ConsentRecord.writer` of records this package wrote
FLOWSPEC_WRITER: Final = "flowspec"  # a record with only flowspec's own keys
FLOWSPEC_KEYS: Final = (
    "enabled",
    "consent_given_at",
    "consent_version",
    "data_retention_days",
    "metadata",
)
_OUR_KEYS: Final = frozenset({"answer", "decided_at", "notice_version", "ask_again_after"})
_SHARE_KEY: Final = "share"  # the answer to sharing (consent._share), dropped with any no
_TRUE: Final = frozenset({"1", "true", "yes", "on"})
_FALSE: Final = frozenset({"0", "false", "no", "off"})
_DNT_UNSET: Final = frozenset({"", "0"})


class Rule(StrEnum):
    """Which rule decided; the values are what `status` prints."""

    DO_NOT_TRACK = "DO_NOT_TRACK is set"
    ENV_DISABLED = "{prefix}TELEMETRY_DISABLED is set"
    ENV_ENABLED = "{prefix}TELEMETRY_ENABLED is set to yes in the environment"
    ENV_NOT_ENABLED = "{prefix}TELEMETRY_ENABLED is set to no in the environment"
    TEAM_POLICY = "team policy: {workflow} vetoes telemetry for everyone"
    FOREIGN_PROJECT = (
        "{detail} belongs to another user; nothing of yours is recorded into somebody else's folder"
    )
    UNREADABLE_ANSWER = "a consent file cannot be read as one ({detail}); off until it is fixed"
    PROJECT_ANSWER = "your answer for this project"
    GLOBAL_ANSWER = "your global answer"
    UNTRUSTED_ANSWER = (
        "the yes in {detail} does not count; a yes counts only when you gave it "
        "(not asked yet: telemetry is off until you say yes)"
    )
    NOT_ASKED = "not asked yet (telemetry is off until you say yes)"


class ConsentFileError(TelemetryError, ValueError):
    """A consent record that is not a JSON object we understand, or not a file we may read."""

    def __init__(
        self, path: StrPath, reason: str, *, unreadable: bool = False, message: str = ""
    ) -> None:
        if message:
            pass
        elif unreadable:
            message = f"{path} cannot be read ({reason}); check its owner and permissions"
        else:
            message = (
                f"{path} is corrupt ({reason}); "
                "fix it or delete it and run `enable` or `disable` again"
            )
        super().__init__(message)
        self.path = path
        self.reason = reason


class ConsentRecord:
    """A person's answer as stored on disk, with the file facts the trust rule needs."""

    __slots__ = (
        "answer",
        "ask_again_after",
        "decided_at",
        "enabled",
        "keys",
        "notice_version",
        "owner_uid",
        "writer",
    )

    def __init__(
        self,
        enabled: bool,
        decided_at: str,
        notice_version: int,
        answer: str = "yes",  # "yes", "no" or "later"
        ask_again_after: str | None = None,
        *,
        writer: str = WRITER,
        keys: dict[str, Any] | None = None,  # every key as read (flowspec's, others')
        owner_uid: int | None = None,
    ) -> None:
        self.enabled = enabled
        self.decided_at = decided_at
        self.notice_version = notice_version
        self.answer = answer
        self.ask_again_after = ask_again_after
        self.writer = writer
        self.keys = dict(keys) if keys else {}
        self.owner_uid = owner_uid

    def __eq__(self, other: object) -> bool:
        return isinstance(other, ConsentRecord) and self.to_json() == other.to_json()

    def __hash__(self) -> int:
        return hash((self.enabled, self.decided_at, self.notice_version, self.answer))

    def __repr__(self) -> str:
        return f"ConsentRecord({self.to_json()!r})"

    def current(self) -> bool:
        """Whether it answers the notice people see today (flowspec's own answers never do)."""
        return self.writer == WRITER and self.notice_version >= NOTICE_VERSION

    @property
    def says_no(self) -> bool:
        """A no, whoever wrote it and for whichever notice: it always counts."""
        return self.answer == "no"

    def to_json(self) -> dict[str, Any]:
        """flowspec's keys first (its module reads `enabled`), then ours, then any other key."""
        data: dict[str, Any] = {
            "enabled": self.enabled,
            "consent_given_at": self.keys.get("consent_given_at"),
            "consent_version": self.keys.get("consent_version", "1.0"),
            "data_retention_days": self.keys.get("data_retention_days", 90),
            "metadata": self.keys.get("metadata", {}),
        }
        if self.writer == WRITER:
            data["answer"] = self.answer
            data["decided_at"] = self.decided_at
            data["notice_version"] = self.notice_version
            if self.ask_again_after:
                data["ask_again_after"] = self.ask_again_after
        for key, value in self.keys.items():
            if key not in data and (self.writer == WRITER or key not in _OUR_KEYS):
                data[key] = value
        return data


class Decision:
    """The outcome of `decide()`: on or off, and the rule that said so."""

    __slots__ = ("detail", "enabled", "names", "record", "rule", "warning")

    def __init__(
        self,
        enabled: bool,
        rule: Rule,
        names: ToolNames = FLOWSPEC,
        warning: str | None = None,  # e.g. a corrupt record, named for `status`
        *,
        detail: str = "",  # the file a rule names
        record: ConsentRecord | None = None,  # the answer that decided, if one did
    ) -> None:
        self.enabled = enabled
        self.rule = rule
        self.names = names
        self.warning = warning
        self.detail = detail
        self.record = record

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Decision) and (
            self.enabled,
            self.rule,
            self.names,
            self.warning,
            self.detail,
        ) == (other.enabled, other.rule, other.names, other.warning, other.detail)

    def __hash__(self) -> int:
        return hash((self.enabled, self.rule))

    def __repr__(self) -> str:
        return f"Decision(enabled={self.enabled}, rule={self.rule.name})"

    @property
    def reason(self) -> str:
        return self.rule.value.format(
            prefix=self.names.env_prefix, workflow=self.names.workflow_file, detail=self.detail
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


def do_not_track(value: str | None) -> bool:
    """The DO_NOT_TRACK convention: any value but empty and `0` means do not track."""
    return value is not None and value.strip() not in _DNT_UNSET


def _env_decision(names: ToolNames, dnt: str, disabled: str, enabled: str) -> Decision | None:
    if do_not_track(dnt):
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


def read_file(path: StrPath, *, follow_symlinks: bool) -> tuple[bytes, int] | None:
    """(at most MAX_RECORD_BYTES, owner uid) of a regular file; None if absent.

    Never blocks (a FIFO or `/dev/stdin` in its place is refused, not read)
    and never follows a link unless asked.
    """
    flags = os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC | getattr(os, "O_NOCTTY", 0)
    if not follow_symlinks:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        return None
    except IsADirectoryError:
        raise ConsentFileError(path, "it is a folder") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP or (not follow_symlinks and os.path.islink(path)):
            raise ConsentFileError(
                path, "a symbolic link; answers are read from a real file"
            ) from None
        raise ConsentFileError(path, exc.strerror or "unreadable", unreadable=True) from None
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise ConsentFileError(path, "it is a folder")
        if not stat.S_ISREG(st.st_mode):
            raise ConsentFileError(path, "not a regular file (a FIFO, socket or device)")
        if st.st_size > MAX_RECORD_BYTES:
            raise ConsentFileError(path, f"larger than {MAX_RECORD_BYTES // 1024} KiB")
        try:
            raw = os.read(fd, MAX_RECORD_BYTES + 1)
        except OSError as exc:
            raise ConsentFileError(path, exc.strerror or "unreadable", unreadable=True) from None
        if len(raw) > MAX_RECORD_BYTES:
            raise ConsentFileError(path, f"larger than {MAX_RECORD_BYTES // 1024} KiB")
        return raw, st.st_uid
    finally:
        os.close(fd)


def read_record(path: StrPath, *, follow_symlinks: bool = False) -> ConsentRecord | None:
    """The record at `path`, None if absent; `ConsentFileError` if unreadable as one.

    Reads what this package writes and what flowspec's own module writes
    (`{"enabled": ..., "consent_given_at": ..., "consent_version": "1.0", ...}`).
    """
    found = read_file(path, follow_symlinks=follow_symlinks)
    if found is None:
        return None
    raw, owner = found
    try:
        data = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError):
        raise ConsentFileError(path, "not valid JSON") from None
    if not isinstance(data, dict):
        raise ConsentFileError(path, f"a JSON {type(data).__name__}, not an object")
    ours = "answer" in data or "notice_version" in data
    enabled = data.get("enabled", None if ours else False)
    if not isinstance(enabled, bool):
        raise ConsentFileError(path, "`enabled` must be true or false")
    if not ours:  # flowspec's own module wrote it (or a person, by hand, in its shape)
        return ConsentRecord(
            enabled=enabled,
            decided_at=_text(data.get("consent_given_at")),
            notice_version=0,
            answer="yes" if enabled else "no",
            writer=FLOWSPEC_WRITER,
            keys=data,
            owner_uid=owner,
        )
    version = data.get("notice_version", 0)
    if not isinstance(version, int) or isinstance(version, bool):
        raise ConsentFileError(path, "`notice_version` must be a whole number")
    answer = data.get("answer")
    if answer not in ("yes", "no", "later"):
        answer = "yes" if enabled else "no"
    if (answer == "yes") != enabled:
        answer = "no"  # `enabled` and `answer` disagree (edited by hand?): the no wins
    later = data.get("ask_again_after")
    return ConsentRecord(
        enabled=enabled,
        decided_at=_text(data.get("decided_at")),
        notice_version=version,
        answer=answer,
        ask_again_after=later if isinstance(later, str) else None,
        keys=data,
        owner_uid=owner,
    )


def _text(value: object) -> str:
    return value if isinstance(value, str) else ""


def write_record(path: StrPath, record: ConsentRecord) -> None:
    """Write whole or not at all (`core._files.write_private`), folder 0700, file 0600."""
    folder = os.path.dirname(os.fspath(path))
    os.makedirs(folder, mode=0o700, exist_ok=True)
    write_private(path, (json.dumps(record.to_json(), indent=2) + "\n").encode())


def _flowspec_time() -> str:
    """The time as flowspec's module writes `consent_given_at` (ISO 8601, microseconds, +00:00)."""
    now = time.time()
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(now)) + f".{int(now % 1 * 1e6):06d}+00:00"


def new_record(
    answer: str,
    *,
    ask_again_after: str | None = None,
    previous: ConsentRecord | None = None,
) -> ConsentRecord:
    """A record of `answer` ("yes", "no", "later") made now for the current notice.

    flowspec's keys of `previous` are kept, as its own module keeps them: the
    time of the last yes stays on a no (an audit trail), the retention days
    and `metadata` stay as they were. Any key neither tool knows is kept too,
    except the answer to sharing, which a no or "later" to recording drops:
    after a no, sharing is asked anew.
    """
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    keys: dict[str, Any] = {}
    if previous is not None:
        keys = {k: v for k, v in previous.keys.items() if k not in _OUR_KEYS}
    if answer == "yes":
        keys["consent_given_at"] = _flowspec_time()
        keys["consent_version"] = f"{WRITER}/{NOTICE_VERSION}"
    else:
        keys.pop(_SHARE_KEY, None)
    return ConsentRecord(
        enabled=answer == "yes",
        decided_at=now,
        notice_version=NOTICE_VERSION,
        answer=answer,
        ask_again_after=ask_again_after,
        keys=keys,
    )


def _euid() -> int | None:
    geteuid = getattr(os, "geteuid", None)
    return geteuid() if geteuid is not None else None


def distrust(record: ConsentRecord, path: StrPath, *, project: bool) -> str | None:
    """Why a yes (or "later") in `record` is not the person's own answer; None when it counts.

    A no never needs this: it counts from anywhere.
    """
    if record.writer != WRITER:
        return "written by flowspec's own module, for its older notice: counts as not asked"
    if record.notice_version < NOTICE_VERSION:
        return "given for an older notice: counts as not asked"
    uid = _euid()
    if uid is not None and record.owner_uid is not None and record.owner_uid != uid:
        return f"the file belongs to another user (uid {record.owner_uid}), not to you"
    if not project:
        return None
    folder = os.path.dirname(os.fspath(path))
    try:
        st = os.lstat(folder)
    except OSError:
        return "its folder cannot be looked at"
    if uid is not None and st.st_uid != uid:
        return f"its folder belongs to another user (uid {st.st_uid}), not to you"
    from flowspec_telemetry.core import _git_index

    tracked = _git_index.is_tracked(os.fspath(path))
    if tracked is None:
        return "cannot tell whether git tracks it (its index cannot be read)"
    if tracked:
        return "it is tracked by git, so it came with the repository; `git rm --cached` it"
    return None


def foreign_folder(root: StrPath, names: ToolNames = FLOWSPEC) -> str | None:
    """The project folder when it exists and belongs to another user, else None."""
    uid = _euid()
    if uid is None:
        return None
    folder = os.path.join(root, names.project_dir)
    try:
        st = os.lstat(folder)
    except OSError:
        return None
    return folder if st.st_uid != uid else None


def recorded_answer(
    root: StrPath | None, names: ToolNames = FLOWSPEC, *, project_only: bool = False
) -> Decision:
    """Rules 4 to 8: the person's own answer, from the project's and the global record.

    `project_only` is for simulated data about nobody (the demo's own folder):
    a person's global answer does not speak for it.
    """
    if root is not None:
        foreign = foreign_folder(root, names)
        if foreign is not None:
            return Decision(False, Rule.FOREIGN_PROJECT, names, detail=foreign)
    candidates: list[tuple[str, Rule, bool]] = []
    if root is not None:
        candidates.append((project_config_file(root, names), Rule.PROJECT_ANSWER, True))
    if not project_only:
        candidates.append((global_config_file(names), Rule.GLOBAL_ANSWER, False))
    found: list[tuple[str, Rule, bool, ConsentRecord]] = []
    for path, rule, project in candidates:
        try:
            record = read_record(path, follow_symlinks=not project)
        except ConsentFileError as exc:
            return Decision(False, Rule.UNREADABLE_ANSWER, names, str(exc), detail=path)
        if record is not None:
            found.append((path, rule, project, record))
    for path, rule, _, record in found:
        if record.says_no:
            return Decision(False, rule, names, detail=path, record=record)
    untrusted = ""
    for path, rule, project, record in found:
        why = distrust(record, path, project=project)
        if why is None:
            return Decision(record.enabled, rule, names, detail=path, record=record)
        if not untrusted and record.answer == "yes" and record.current():
            untrusted = f"{path} ({why})"
    if untrusted:
        return Decision(False, Rule.UNTRUSTED_ANSWER, names, detail=untrusted)
    return Decision(False, Rule.NOT_ASKED, names)


def decide(
    root: StrPath | None,
    *,
    names: ToolNames = FLOWSPEC,
    team_allows: Callable[[], bool] = lambda: True,
    environ: Mapping[str, str] | None = None,
    lazy_policy: bool = False,
    project_only: bool = False,
) -> Decision:
    """Apply the rules in order.

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
    answer = recorded_answer(root, names, project_only=project_only)
    if answer.enabled and lazy_policy and not team_allows():
        return Decision(False, Rule.TEAM_POLICY, names)
    return answer
