"""`audit`: check the privacy promises on the person's own files, as a team could in CI.

Every file the package wrote for this project is read (events, archives and
pending files, the ledger and the kept copies of shared reports, the consent,
catalog, role and hook files, plus any export or report named on the command
line), and checked for:

- **text the scrubber would remove** (e-mails, paths, IPs, URLs, keys and
  tokens, control characters) in any string value;
- **personal values of this machine**, in the clear: the user name, the host
  name, the home folder, the project folder's name and path, the git remotes
  and the git user name and e-mail from the project's and the user's git
  config;
- **unkeyed hashes** of those values: a plain SHA-256 (whole, or cut to 12 or
  16 hex digits as older tools did), SHA-1 or MD5 of any of them anywhere in a
  file. Our hashes are keyed with the project's secret salt, so a match means
  a hash someone can reverse by guessing;
- flowspec's older module's `hostname_hash` (an unsalted SHA-256 of the host
  name) in legacy lines: a finding, fixed by `migrate`;
- **file modes**: the folder 0700 and every file 0600, no symbolic links;
- **what was shared**: each ledger entry of a weekly report has its kept copy
  and the copy matches the SHA-256 recorded; and the epsilon spent.

A finding is real: `audit` exits 1 when there is any (0 when there is none).
"""

from __future__ import annotations

import configparser
import getpass
import gzip
import hashlib
import json
import os
import re
import socket
import stat
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Final

from flowspec_telemetry.core import ledger
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.privacy import scrub
from flowspec_telemetry.report import sharing

__all__ = ["Finding", "audit_project", "personal_values"]

_MAX_FILE: Final = 256 * 1024 * 1024
_MAX_LINE: Final = 1 << 20
_SCRUB_LIMIT: Final = 1 << 30
_MIN_PLAIN: Final = 3
_COMMON: Final = frozenset({"/", "root", "user", "admin", "localhost"})
_SAFE_KEYS: Final = frozenset(
    {"event_id", "timestamp", "sha256", "written_at", "report_id", "contributor"}
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One broken promise: which file (and line), what, and how to fix it."""

    file: str
    line: int | None
    kind: str
    detail: str
    fix: str

    def text(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.kind}: {self.detail} (fix: {self.fix})"


def _git_values(root: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for path, prefix in (
        (root / ".git" / "config", "project"),
        (Path.home() / ".gitconfig", "user"),
    ):
        parser = configparser.RawConfigParser(strict=False)
        try:
            parser.read(path, encoding="utf-8")
        except (OSError, configparser.Error, UnicodeDecodeError):
            continue
        for section in parser.sections():
            for key in ("url", "email", "name"):
                value = parser.get(section, key, fallback=None)
                if value and (section.startswith("remote") or section == "user"):
                    values[f"git {section.replace(chr(34), '')} {key} ({prefix})"] = value.strip()
    return values


def personal_values(root: Path) -> dict[str, str]:
    """This machine's personal values the files must never hold (label -> value)."""
    values: dict[str, str] = {}
    try:
        values["user name"] = getpass.getuser()
    except (OSError, KeyError):
        pass
    for label, value in (
        ("host name", socket.gethostname()),
        ("HOSTNAME", os.environ.get("HOSTNAME", "")),
        ("home folder", str(Path.home())),
        ("project folder name", root.resolve().name),
        ("project path", str(root.resolve())),
    ):
        if value:
            values[label] = value
    values.update(_git_values(root))
    return {k: v for k, v in values.items() if v}


def _hash_forms(value: str) -> dict[str, str]:
    data = value.encode("utf-8")
    sha = hashlib.sha256(data).hexdigest()
    return {
        "a plain SHA-256": sha,
        "a plain SHA-256 cut to 16 hex digits": sha[:16],
        "a plain SHA-256 cut to 12 hex digits": sha[:12],
        "a plain SHA-1": hashlib.sha1(data).hexdigest(),  # noqa: S324 - what we look for
        "a plain MD5": hashlib.md5(data).hexdigest(),  # noqa: S324
    }


def _written_files(root: Path, names: ToolNames, extra: list[Path]) -> list[Path]:
    folder = root / names.project_dir
    files: list[Path] = []
    try:
        entries = sorted(folder.iterdir())
    except OSError:
        entries = []
    for path in entries:
        if path.name.startswith("telemetry") and not path.is_dir():
            files.append(path)
    copies = folder / sharing.COPIES_DIR
    if copies.is_dir() and not copies.is_symlink():
        files.extend(sorted(p for p in copies.iterdir() if not p.is_dir()))
    return files + extra


def _lines(path: Path) -> Iterator[tuple[int, bytes]]:
    opener = gzip.open if path.name.endswith(".gz") else open
    with opener(path, "rb") as fh:
        data = fh.read(_MAX_FILE)
    if path.suffix == ".json" and not path.name.endswith(".jsonl"):
        yield 1, data  # a whole JSON document (a report, an export)
        return
    yield from enumerate(data.splitlines(), 1)


def _strings(value: Any, key: str = "") -> Iterator[tuple[str, str]]:
    if isinstance(value, str):
        yield key, value
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _strings(str(k), "")
            yield from _strings(v, str(k))
    elif isinstance(value, list):
        for v in value:
            yield from _strings(v, key)


def _mode_findings(root: Path, names: ToolNames, files: list[Path]) -> list[Finding]:
    out = []
    folder = root / names.project_dir
    try:
        st = os.lstat(folder)
        if stat.S_ISDIR(st.st_mode) and st.st_mode & 0o077:
            out.append(
                Finding(
                    str(folder),
                    None,
                    "mode",
                    f"the folder is {oct(st.st_mode & 0o777)}, not 0700",
                    f"chmod 700 {folder}",
                )
            )
    except OSError:
        pass
    for path in files:
        try:
            st = os.lstat(path)
        except OSError:
            continue
        if stat.S_ISLNK(st.st_mode):
            out.append(
                Finding(
                    str(path),
                    None,
                    "symlink",
                    "a symbolic link where a telemetry file belongs",
                    f"remove {path}",
                )
            )
        elif st.st_mode & 0o077:
            out.append(
                Finding(
                    str(path),
                    None,
                    "mode",
                    f"the file is {oct(st.st_mode & 0o777)}, not 0600",
                    f"chmod 600 {path}",
                )
            )
    return out


def _content_findings(
    path: Path, values: dict[str, str], forms: dict[str, tuple[str, str]], migrate: str
) -> list[Finding]:
    out: list[Finding] = []
    try:
        lines = list(_lines(path))
    except (OSError, EOFError, gzip.BadGzipFile) as exc:
        return [
            Finding(
                str(path),
                None,
                "unreadable",
                str(exc)[:120],
                "check the file; `clear` removes telemetry files",
            )
        ]
    for n, raw in lines:
        text = raw.decode("utf-8", "replace")
        lower = text.lower()
        for form, (label, how) in forms.items():
            if form in lower:
                out.append(
                    Finding(
                        str(path),
                        n,
                        "unkeyed hash",
                        f"{how} of the {label}",
                        "run `clear` (or `migrate` for legacy lines)",
                    )
                )
        for label, value in values.items():
            if len(value) < _MIN_PLAIN or value in _COMMON:
                continue  # too short to tell from ordinary text (its hashes are still checked)
            if re.search(r"(?<![\w.-])" + re.escape(value) + r"(?![\w-])", text):
                out.append(
                    Finding(
                        str(path), n, "personal value", f"the {label} in the clear", "run `clear`"
                    )
                )
        try:
            data = json.loads(raw)
        except ValueError:
            continue
        if (
            isinstance(data, dict)
            and isinstance(data.get("metadata"), dict)
            and "hostname_hash" in data["metadata"]
        ):
            out.append(
                Finding(
                    str(path),
                    n,
                    "legacy host-name hash",
                    "an unsalted SHA-256 of the host name written by flowspec's older module",
                    migrate,
                )
            )
        for key, value in _strings(data):
            if key in _SAFE_KEYS:
                continue
            if scrub(value, limit=_SCRUB_LIMIT) != value:
                out.append(
                    Finding(
                        str(path),
                        n,
                        "scrubber",
                        f"{key or 'a value'} holds text the scrubber removes "
                        f"({scrub(value, limit=60)!r})",
                        "run `clear`",
                    )
                )
                break
    return out


def audit_project(
    root: Path,
    names: ToolNames = FLOWSPEC,
    *,
    extra: list[Path] | None = None,
    migrate_available: bool = True,
) -> dict[str, Any]:
    """Every finding over the project's written files (plus `extra`), and what was shared."""
    files = _written_files(root, names, list(extra or []))
    values = personal_values(root)
    forms: dict[str, tuple[str, str]] = {}
    for label, value in values.items():
        for how, digest in _hash_forms(value).items():
            forms[digest] = (label, how)
    migrate = "run `flowspec-telemetry migrate`" if migrate_available else "run `clear`"
    findings = _mode_findings(root, names, files)
    for path in files:
        if path.name.endswith((".salt", ".lock")):
            continue
        findings += _content_findings(path, values, forms, migrate)
    entries = ledger.read_ledger(root, names)
    for entry in entries:
        if entry.get("share_schema_version") != "2":
            continue
        copy = root / names.project_dir / sharing.COPIES_DIR / f"{entry.get('iso_week')}.json"
        try:
            blob = copy.read_bytes()
        except OSError:
            findings.append(
                Finding(
                    str(copy),
                    None,
                    "shared copy",
                    f"the kept copy of {entry.get('iso_week')} is missing",
                    "keep the copy; a shared week is never made again",
                )
            )
            continue
        if hashlib.sha256(blob).hexdigest() != entry.get("sha256"):
            findings.append(
                Finding(
                    str(copy),
                    None,
                    "shared copy",
                    "the kept copy does not match the SHA-256 in the ledger",
                    "restore it from the file you shared",
                )
            )
    shared = [
        {
            k: e.get(k)
            for k in ("iso_week", "written_at", "file", "epsilon", "sha256", "share_schema_version")
        }
        for e in entries
    ]
    return {
        "audit_version": "1",
        "files": [str(p) for p in files],
        "findings": [asdict(f) for f in findings],
        "ok": not findings,
        "shared": shared,
        "budget": sharing.budget_status(root, names),
    }
