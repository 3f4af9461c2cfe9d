"""One value normaliser for every reader: a parsed line in, a well-typed event (or None) out.

Why one place. A line in the store can hold anything: a file is the person's
own, another tool may append to it, an old version or a crash may leave odd
values, and JSON itself allows `Infinity`, lone surrogates (`"\\ud800"`) and any
shape where a string is expected. Each reader used to defend itself (or not):
one lone surrogate crashed `view`, `stats`, `dashboard` and `export`, a
`duration_ms` of `Infinity` crashed `insights`, a list as `role` crashed
`report --share`. Every reader (the fast and the reference parser, so every
command) now calls `normalize_event` on each parsed line before anything is
counted or printed, so the rest of the code may rely on the types below.

The contract (see `FIELD_KINDS`):

* not a dict, or no usable text `event_type`: None (the reader counts the line
  as skipped);
* text fields are `str`, None (the tracker writes `"agent": null`) or absent:
  lone surrogates (which no UTF-8
  output can carry) become U+FFFD and a value is cut to `MAX_TEXT` characters.
  Any other type there is dropped;
* `duration_ms` is a finite number in [0, `MAX_DURATION_MS`] or absent;
* `handoff` is `{"from_agent": str | None, "to_agent": str | None}` or absent;
* `context` is a dict of clean scalars (text as above, finite numbers, bools,
  None) or absent;
* `schema_version` is text; a line without one is a legacy line, tagged "0";
* unknown keys are kept (readers show them), their values cleaned the same
  way: text as above, finite numbers, lists and dicts at most `MAX_DEPTH` deep
  and `MAX_ITEMS` long.

What it does not do: change the characters of a value otherwise. Data stays
data (an export gives back what was stored); what a terminal or a page must
not obey (C0/C1 controls, zero-width, bidi including U+061C, the tag
characters of the U+E0000 block) is shown as a visible escape by the display
layers, which all use `escape_unsafe` (terminal: `cli._render.safe`; HTML:
`report.html`).

A clean line (every line this package writes) is returned as the very same
dict after a check of its values' types and characters, so the cost on a
normal history is a few hundred nanoseconds per event.
"""

from __future__ import annotations

import math
import re
from typing import Any, Final

__all__ = [
    "FIELD_KINDS",
    "MAX_DURATION_MS",
    "MAX_TEXT",
    "UNSAFE_CHARS",
    "clean_text",
    "escape_unsafe",
    "normalize_event",
    "normalize_parsed",
]

# The tag of a line from flowspec's earlier module; the same as
# `core.events.LEGACY_SCHEMA_VERSION` (events imports this module lazily, so this
# one cannot import events: a test holds the two equal).
LEGACY_SCHEMA_VERSION: Final = "0"
MAX_TEXT: Final = 1024  # no line the tracker writes holds a longer value (lines <= 4096 bytes)
MAX_DURATION_MS: Final = 10**12  # what the tracker itself stores at most (about 31 years)
MAX_DEPTH: Final = 32
MAX_ITEMS: Final = 1024

_TEXT: Final = "text"
FIELD_KINDS: Final[dict[str, str]] = {
    "schema_version": _TEXT,
    "event_id": _TEXT,
    "timestamp": _TEXT,
    "event_type": _TEXT,
    "role": _TEXT,
    "previous_role": _TEXT,
    "agent_role": _TEXT,
    "command": _TEXT,
    "agent": _TEXT,
    "project_id": _TEXT,
    "session_id": _TEXT,
    "invocation_id": _TEXT,
    "outcome": _TEXT,
    "source": _TEXT,
    "duration_ms": "duration",
    "handoff": "handoff",
    "context": "context",
}

# What must never reach a terminal or a page: C0/C1 controls (escapes), zero-width
# and bidi controls (U+061C, U+200B-U+200F, U+202A-U+202E, U+2066-U+2069), word
# joiners and invisible operators (U+2060-U+2064), the BOM, interlinear
# annotation marks, line/paragraph separators and the tag characters (U+E0000
# block: invisible text that can smuggle a message).
UNSAFE_CHARS: Final = re.compile(
    "[\x00-\x1f\x7f-\x9f\u061c\u180e\u200b-\u200f\u2028-\u202e\u2060-\u206f"
    "\ufeff\ufff9-\ufffb\U000e0000-\U000e007f]"
)
_SURROGATE: Final = re.compile("[\ud800-\udfff]")


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    if code < 0x100:
        return f"\\x{code:02x}"
    return f"\\u{code:04x}" if code < 0x10000 else f"\\U{code:08x}"


def escape_unsafe(text: str) -> str:
    """Every character of `UNSAFE_CHARS` in `text` as a visible escape (`\\x1b`)."""
    return UNSAFE_CHARS.sub(_escape, text)


def clean_text(value: str, limit: int = MAX_TEXT) -> str:
    """`value` safe to count, sort and encode as UTF-8 (to print it, see `escape_unsafe`)."""
    if value.isascii() and value.isprintable() and len(value) <= limit:
        return value
    text = _SURROGATE.sub("\ufffd", value[: limit * 4])
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text


def _number(value: object) -> int | float | None:
    if type(value) is int:
        return value
    if type(value) is float and math.isfinite(value):
        return value
    return None


def _duration(value: object) -> int | float | None:
    number = _number(value)
    if number is None:
        return None
    return max(0, min(number, MAX_DURATION_MS))


def _opt_text(value: object) -> str | None:
    return clean_text(value) if type(value) is str else None


def _handoff(value: object) -> dict[str, str | None] | None:
    if type(value) is not dict:
        return None
    return {
        "from_agent": _opt_text(value.get("from_agent")),
        "to_agent": _opt_text(value.get("to_agent")),
    }


def _context(value: object) -> dict[str, Any] | None:
    if type(value) is not dict:
        return None
    out: dict[str, Any] = {}
    for key, item in list(value.items())[:MAX_ITEMS]:
        name = clean_text(key, 64)
        if type(item) is str:
            out[name] = clean_text(item)
        elif type(item) is bool or item is None:
            out[name] = item
        else:
            number = _number(item)
            if number is not None:
                out[name] = number
    return out


def _any(value: object, depth: int = 0) -> tuple[bool, Any]:
    """(keep, cleaned) for a value of an unknown key."""
    if value is None or type(value) is bool:
        return True, value
    if type(value) is str:
        return True, clean_text(value)
    if type(value) is int:  # kept exact: Python's ints are unbounded, JSON's too
        return True, value
    if type(value) is float:
        return math.isfinite(value), value
    if depth >= MAX_DEPTH:
        return False, None
    if type(value) is list:
        items = [_any(item, depth + 1) for item in value[:MAX_ITEMS]]
        return True, [item for keep, item in items if keep]
    if type(value) is dict:
        out = {}
        for key, item in list(value.items())[:MAX_ITEMS]:
            keep, cleaned = _any(item, depth + 1)
            if keep:
                out[clean_text(str(key), 64)] = cleaned
        return True, out
    return False, None


def _is_clean_context(context: dict[str, Any]) -> bool:
    for name, item in context.items():
        if name == "ci":
            if type(item) is not bool:
                return False
            continue
        if type(item) is not str or len(item) > MAX_TEXT:
            return False
        if not (item.isascii() and item.isprintable()):
            return False
    return True


def _is_clean(obj: dict[str, Any]) -> bool:
    """Whether every value already has its documented type and safe characters."""
    for key, value in obj.items():
        kind = FIELD_KINDS.get(key)
        t = type(value)
        if t is str:
            if (
                kind != _TEXT
                or not (value.isascii() and value.isprintable())
                or len(value) > MAX_TEXT
            ):
                return False
        elif value is None:
            if kind != _TEXT or key in ("event_type", "schema_version"):
                return False  # None is kept as it is in a text field (`"agent": null`)
        elif kind == "duration":
            if t is not int or not 0 <= value <= MAX_DURATION_MS:
                return False
        elif kind == "context":
            if t is not dict:
                return False
            if not _is_clean_context(value):
                return False
        elif kind == "handoff":
            if t is not dict or value.keys() != {"from_agent", "to_agent"}:
                return False
            for item in value.values():
                if item is not None and (
                    type(item) is not str or not (item.isascii() and item.isprintable())
                ):
                    return False
        else:
            return False  # an unknown key or a wrong type: the careful path decides
    return "schema_version" in obj


# Shapes (keys, value types, the context's items, the handoff's types) of lines
# already found clean: a plain-ASCII line of the same shape needs no more checks
# than its duration's range. Bounded, so a hostile file cannot grow it.
_clean_shapes: set[tuple[Any, ...]] = set()
_MAX_SHAPES: Final = 256


def normalize_parsed(obj: object, raw: bytes) -> dict[str, Any] | None:
    """`normalize_event(obj)` for `obj` parsed from `raw`, cheaper for the common line.

    A line no longer than `MAX_TEXT` bytes, all ASCII and without a backslash
    holds no escape at all, so none of its strings can carry a surrogate, a
    control or any character beyond ASCII, nor be longer than `MAX_TEXT`: only
    the types remain to check, and a shape seen clean before is looked up.
    """
    if type(obj) is not dict:
        return None
    if len(raw) <= MAX_TEXT and raw.isascii() and b"\\" not in raw:
        context, handoff = obj.get("context"), obj.get("handoff")
        try:
            shape = (
                tuple(obj),
                tuple(map(type, obj.values())),
                tuple(context.items()) if type(context) is dict else None,
                (tuple(handoff), tuple(map(type, handoff.values())))
                if type(handoff) is dict
                else None,
            )
            hash(shape)
        except TypeError:  # a list or dict inside the context: the careful path decides
            shape = None
        if shape is not None and shape in _clean_shapes:  # its event_type is text
            duration = obj.get("duration_ms")
            if obj["event_type"] and (duration is None or 0 <= duration <= MAX_DURATION_MS):
                return obj
        elif shape is not None and len(_clean_shapes) < _MAX_SHAPES:
            event = normalize_event(obj)
            if event is obj:  # clean as it was: remember the shape
                _clean_shapes.add(shape)
            return event
    return normalize_event(obj)


def normalize_event(obj: object) -> dict[str, Any] | None:
    """A parsed line as an event whose every value is safe to use, or None (see module)."""
    if type(obj) is not dict:
        return None
    event_type = obj.get("event_type")
    if type(event_type) is not str or not event_type:
        return None
    if _is_clean(obj):
        return obj
    return _rebuild(obj)


def _rebuild(obj: dict[Any, Any]) -> dict[str, Any] | None:
    event_type = clean_text(obj["event_type"])
    if not event_type:
        return None
    out: dict[str, Any] = {}
    for key, value in list(obj.items())[: MAX_ITEMS * 2]:
        name = (
            key
            if type(key) is str and key.isascii() and key.isprintable()
            else clean_text(str(key), 64)
        )
        kind = FIELD_KINDS.get(name)
        if kind is None:
            keep, cleaned = _any(value)
            if keep:
                out[name] = cleaned
            continue
        cleaned = None
        if value is None:
            if kind == _TEXT and name != "schema_version":
                out[name] = None  # as the tracker writes an absent agent: "agent": null
            continue  # a null handoff, context or duration is no value: dropped
        if kind == _TEXT:
            if name == "schema_version" and type(value) is not str:
                number = _number(value)
                cleaned = None if number is None else str(number)
            else:
                cleaned = _opt_text(value)
        elif kind == "duration":
            cleaned = _duration(value)
        elif kind == "handoff":
            cleaned = _handoff(value)
        else:
            cleaned = _context(value)
        if cleaned is not None:
            out[name] = cleaned
    out["event_type"] = event_type
    if "schema_version" not in out:
        # A line without one is flowspec's earlier module (schema "0"); one whose
        # version is not text or a number is read as far as it is understood.
        out["schema_version"] = (
            LEGACY_SCHEMA_VERSION if obj.get("schema_version") is None else "unknown"
        )
    return out
