"""Keyed hashing and scrubbing: nothing personal is written in readable form.

Two defences, used together:

* Values outside the catalog (unknown roles, commands, agents, session ids) are
  never stored; only an HMAC-SHA256 keyed with a per-project secret salt is.
  The salt never leaves the project, so a hash cannot be reversed by guessing
  (no rainbow tables), is stable within a project and differs across projects.
* Free text that we do keep (a tool version, an error message in debug output,
  unknown keys of old lines shown by `view`) goes through `scrub()` first.

Every pattern is anchored by a look-behind so that a run of characters is
entered at most once: the scrubber is linear in the input, even for 1 MB of
`@`s, dots or digits (flowspec's earlier sanitizer was quadratic).
"""

from __future__ import annotations

import errno
import os
import re
import stat

from flowspec_telemetry.core._files import write_private
from flowspec_telemetry.core.errors import TelemetryError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from hashlib import sha256 as _sha256
    from typing import Final

    from flowspec_telemetry.core.names import StrPath
else:  # CPython's own SHA-256: no OpenSSL load at start-up (hashlib costs ~3 ms)
    try:
        from _sha256 import sha256 as _sha256  # Python 3.11
    except ImportError:  # pragma: no cover - Python >= 3.12, other interpreters
        try:
            from _sha2 import sha256 as _sha256
        except ImportError:
            from hashlib import sha256 as _sha256

__all__ = [
    "HASH_HEX_CHARS",
    "HASH_PREFIX",
    "MAX_TEXT_CHARS",
    "SALT_BYTES",
    "SALT_FILE",
    "KeyedHasher",
    "SaltError",
    "hash_value",
    "is_hash",
    "load_or_create_salt",
    "read_salt",
    "scrub",
]

SALT_FILE: Final = "telemetry.salt"
SALT_BYTES: Final = 32
HASH_PREFIX: Final = "hmac:"
HASH_HEX_CHARS: Final = 16
MAX_TEXT_CHARS: Final = 256


class SaltError(TelemetryError, OSError):
    """The salt file exists but cannot be trusted (wrong size, a link, unreadable)."""


def read_salt(project_dir: StrPath) -> bytes | None:
    """The project's salt, or None when there is none yet. Never follows a symlink."""
    path = os.path.join(project_dir, SALT_FILE)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK)
    except FileNotFoundError:
        return None
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            raise SaltError(errno.ELOOP, "the salt file is a symbolic link; refusing it") from None
        raise
    try:
        mode = os.fstat(fd).st_mode
        if not stat.S_ISREG(mode):  # a FIFO or device planted there: never read, never waited on
            raise SaltError(errno.EINVAL, "the salt file is not a regular file; refusing it")
        data = os.read(fd, SALT_BYTES + 1)
        if mode & 0o077:  # a copied or old salt: keep it private
            os.fchmod(fd, mode & 0o7700)
    finally:
        os.close(fd)
    if len(data) != SALT_BYTES:
        raise SaltError(
            errno.EINVAL,
            f"the salt file holds {len(data)} bytes, not {SALT_BYTES}; "
            f"run `clear` to start over with a new salt",
        )
    return data


def load_or_create_salt(project_dir: StrPath) -> bytes:
    """Read the salt, creating it (32 bytes from `os.urandom`, mode 0600) if missing.

    Creation writes a private temporary file, synced, and hard-links it into
    place (`write_private(replace=False)`), so a concurrent process either wins
    the link or reads the winner's complete salt: nobody ever sees a
    half-written salt, and a full disk leaves no salt rather than a short one.
    """
    salt = read_salt(project_dir)
    if salt is not None:
        return salt
    fresh = os.urandom(SALT_BYTES)  # what `secrets.token_bytes` returns, without importing it
    try:
        write_private(os.path.join(project_dir, SALT_FILE), fresh, replace=False)
    except FileExistsError:
        pass  # another process won: read its salt
    salt = read_salt(project_dir)
    if salt is None:  # pragma: no cover - deleted between link and read
        raise SaltError(errno.ENOENT, "the salt file vanished while being created")
    return salt


_IPAD = bytes(x ^ 0x36 for x in range(256))
_OPAD = bytes(x ^ 0x5C for x in range(256))
_BLOCK = 64


class KeyedHasher:
    """HMAC-SHA256 (RFC 2104) with the key's inner and outer states computed once.

    The same construction as the standard library's `hmac` (a test holds the
    two equal), built on CPython's `_sha256` so the tracking path need not
    import `hashlib`/OpenSSL, and cheaper per call since the padded-key
    states are reused.
    """

    __slots__ = ("_inner", "_outer")

    def __init__(self, key: bytes) -> None:
        if len(key) > _BLOCK:
            key = _sha256(key).digest()
        key = key.ljust(_BLOCK, b"\0")
        self._inner = _sha256(key.translate(_IPAD))
        self._outer = _sha256(key.translate(_OPAD))

    def hexdigest(self, data: bytes) -> str:
        inner = self._inner.copy()
        inner.update(data)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def render(self, value: str | bytes) -> str:
        """`hmac:` + the first 16 hex digits of HMAC-SHA256(key, value)."""
        data = value if isinstance(value, bytes) else value.encode("utf-8", "surrogatepass")
        return HASH_PREFIX + self.hexdigest(data)[:HASH_HEX_CHARS]


_hashers: dict[bytes, KeyedHasher] = {}


def hash_value(value: str | bytes, salt: bytes) -> str:
    """`hmac:` + the first 16 hex digits of HMAC-SHA256(salt, value).

    Strings are encoded with `surrogatepass` so that no string, however
    malformed, makes hashing fail.
    """
    hasher = _hashers.get(salt)
    if hasher is None:
        if len(_hashers) > 64:
            _hashers.clear()
        hasher = _hashers[salt] = KeyedHasher(salt)
    return hasher.render(value)


def is_hash(value: object) -> bool:
    """Whether a stored value is one of our keyed hashes."""
    return isinstance(value, str) and value.startswith(HASH_PREFIX)


# ------------------------------------------------------------------- versions

UNKNOWN_VERSION: Final = "unknown"
# What a version looks like (PEP 440, SemVer, CalVer, a leading "v"): ASCII
# only, starting with a digit, at most 32 characters. Anything else in a
# version field (a path, a token, an e-mail, invalid UTF-8) is not a version.
_VERSION_RE: Final = re.compile(r"v?[0-9][0-9A-Za-z.+_!-]{0,31}", re.ASCII)


def version_text(value: str) -> str:
    """`value` when it looks like a version (and scrubbing leaves it as is), else "unknown"."""
    if len(value) <= 33 and _VERSION_RE.fullmatch(value) and scrub(value, limit=33) == value:
        return value
    return UNKNOWN_VERSION


# ------------------------------------------------------------------ scrubbing

_PATH_END = r"[^\s\"'<>|`]*"
# (tag, needles, pattern): a pattern runs only when one of its needles occurs
# (always when it has none), so ordinary text pays a few substring scans
# instead of twenty regex passes. Secrets with a distinctive prefix are matched
# wherever they start, glued to a word character, `_` or `:` included
# (`inv_ghp_...`, `token:AKIA...`): a look-behind there only let them through.
_PATTERN_SOURCES: Final[tuple[tuple[str, tuple[str, ...], str], ...]] = (
    (
        "<private-key>",
        ("PRIVATE KEY",),
        r"(?s)-----BEGIN [A-Z ]{0,40}PRIVATE KEY-----(?:(?!-----END).){0,16384}"
        r"(?:-----END [A-Z ]{0,40}PRIVATE KEY-----)?",
    ),
    ("<url>", ("://",), r"(?<![\w+.-])[A-Za-z][\w+.-]{0,30}://\S+"),
    ("<url>", ("@",), r"(?<![\w.+-])[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+:[\w./~-]+"),
    (
        "<email>",
        ("@",),
        r"(?<![\w.+-])[\w.+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63})+",
    ),
    ("<secret>", ("eyJ",), r"eyJ[\w-]{4,}\.eyJ[\w-]{4,}\.[\w-]*"),
    (
        "<secret>",
        ("gh", "github_pat_"),
        r"gh[pousr]_[A-Za-z0-9]{20,255}|github_pat_[A-Za-z0-9_]{20,255}",
    ),
    ("<secret>", ("AKIA", "ASIA", "ABIA", "ACCA"), r"(?:AKIA|ASIA|ABIA|ACCA)[A-Z0-9]{16}"),
    ("<secret>", ("xox",), r"xox[abposr]-[A-Za-z0-9-]{10,255}"),
    # Stripe (sk_live_, rk_test_ ...), then OpenAI-style keys: these need a digit
    # in the key so that words such as "task-runner-for-the-whole-team" stay.
    ("<secret>", ("_live_", "_test_"), r"(?:sk|pk|rk)_(?:live|test)_[A-Za-z0-9]{10,255}"),
    (
        "<secret>",
        ("sk-", "pk-", "rk-"),
        r"(?:sk|pk|rk)-(?=[A-Za-z_-]{0,255}[0-9])[A-Za-z0-9_-]{20,255}",
    ),
    ("<secret>", ("AIza",), r"AIza[0-9A-Za-z_-]{35}"),
    ("<path>", ("\\\\",), r"(?<![\\])\\\\[^\s\\]+\\" + _PATH_END),
    ("<path>", ("//",), r"(?<![:/])//[\w.$-]{1,255}/" + _PATH_END),  # //server/share
    ("<path>", (":\\", ":/"), r"[A-Za-z]:[\\/]" + _PATH_END),  # C:\ and C:/
    ("<path>", ("~",), r"(?<![\w~])~[\w.-]{0,64}/" + _PATH_END),
    ("<path>", ("/",), r"(?<![/])/[\w.@+-]+/" + _PATH_END),
    ("<ip>", (":",), r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:){7}[0-9A-Fa-f]{1,4}(?![\w:])"),
    (
        "<ip>",
        ("::",),
        r"(?<![\w:.])(?:[0-9A-Fa-f]{1,4}:){1,7}:"
        r"(?:[0-9A-Fa-f]{1,4}(?::[0-9A-Fa-f]{1,4}){0,6})?(?![\w:])",
    ),
    ("<ip>", (".",), r"(?<![\d.])(?:\d{1,3}\.){3}\d{1,3}(?!\.?\d)"),
    # Last: a long base64 run of letters and digits is a key body (a PEM block
    # cut from its header, a token of an unknown kind, a commit hash). Nothing
    # this package keeps as text is one.
    (
        "<secret>",
        (),
        r"(?<![A-Za-z0-9+/])(?=[A-Za-z+/]*[0-9])(?=[0-9+/]*[A-Za-z])[A-Za-z0-9+/]{40,}={0,2}",
    ),
)
# Terminal escapes, other C0/C1 controls, zero-width and bidi characters: removed
# *before* the patterns run, so they cannot split a secret to hide it.
_CONTROL_SOURCE = (
    r"[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u202a-\u202e\u2060-\u206f\ufeff"
    r"\U000e0000-\U000e007f]"
)
_compiled: list[tuple[str, tuple[str, ...], re.Pattern[str]]] = []
# Longest stretch a bounded pattern can match: a cut further than this before
# the end of the output cannot leave part of a secret in it.
_MAX_MATCH = 512


def _patterns() -> list[tuple[str, tuple[str, ...], re.Pattern[str]]]:
    """The patterns, compiled on first use: a `track` call rarely scrubs, so import stays cheap."""
    if not _compiled:
        _compiled.append(("", (), re.compile(_CONTROL_SOURCE)))
        _compiled.extend(
            (label, needles, re.compile(rx)) for label, needles, rx in _PATTERN_SOURCES
        )
    return _compiled


_PERCENT = re.compile(r"%([2-7][0-9A-Fa-f])")


def _scrub_all(text: str) -> str:
    control, *patterns = _patterns()
    text = control[2].sub("", text)
    if not text.isascii():  # full-width and other compatibility forms (U+FF20 is @)
        import unicodedata  # only for non-ASCII text: never on the common path

        text = control[2].sub("", unicodedata.normalize("NFKC", text))
    if "%" in text:  # percent-encoded ASCII (john%40acme.com): decoded before matching
        text = _PERCENT.sub(lambda m: chr(int(m.group(1), 16)), text)
    for label, needles, pattern in patterns:
        if not needles or any(n in text for n in needles):
            text = pattern.sub(label, text)
    return text


def scrub(text: str, *, limit: int = MAX_TEXT_CHARS) -> str:
    """Remove personal data and secrets from free text, then cut it to `limit` characters.

    Removed: e-mails, URLs (all of them, credentials or not), scp-style git
    remotes, POSIX/macOS/Windows/UNC/tilde paths, IPv4/IPv6 addresses, GitHub,
    AWS, Slack, OpenAI-style and Google keys, JWTs, private-key blocks, and
    control, zero-width or bidi characters. What is removed is replaced by a
    tag such as `<email>` so that a reader sees something was there.

    Only as much of a long text is scrubbed as the output needs: a window of
    the input, grown until its scrubbed form is at least `_MAX_MATCH`
    characters longer than `limit` (or is the whole text). A secret cut by the
    window's end therefore lies beyond what is returned. This keeps a 1 MB
    value to a few milliseconds.
    """
    window = max(4 * limit, 4096)
    while True:
        part = text[:window]
        cleaned = _scrub_all(part)
        if len(part) == len(text) or len(cleaned) >= limit + _MAX_MATCH:
            break
        window *= 4
    if len(cleaned) > limit:
        cleaned = cleaned[: limit - 1] + "…"
    return cleaned
