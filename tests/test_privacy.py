"""Salt, keyed hashing and the scrubber."""

from __future__ import annotations

import os
import stat
import time
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from flowspec_telemetry.core.privacy import (
    SALT_BYTES,
    SaltError,
    hash_value,
    is_hash,
    load_or_create_salt,
    read_salt,
    scrub,
)

CORPUS = [
    tuple(line.split("\t", 1))
    for line in (Path(__file__).parent / "data" / "pii-corpus.tsv").read_text().splitlines()
    if line and not line.startswith("#")
]
# Values a scrubber can recognise in free text by shape. Bare names (a user
# name, a project name) cannot be told from ordinary words: those are never
# kept as free text at all, only as keyed hashes (see test_pii.py).
SCRUBBABLE = [(kind, value) for kind, value in CORPUS if kind not in ("username", "project-name")]


def test_salt_is_created_once_private_and_32_bytes(tmp_path: Path) -> None:
    assert read_salt(tmp_path) is None
    salt = load_or_create_salt(tmp_path)
    assert len(salt) == SALT_BYTES
    assert load_or_create_salt(tmp_path) == salt
    mode = stat.S_IMODE(os.stat(tmp_path / "telemetry.salt").st_mode)
    assert mode == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["telemetry.salt"]  # no temp file left


def test_salt_of_wrong_size_is_refused(tmp_path: Path) -> None:
    (tmp_path / "telemetry.salt").write_bytes(b"short")
    with pytest.raises(SaltError, match="5 bytes"):
        read_salt(tmp_path)
    with pytest.raises(SaltError):
        load_or_create_salt(tmp_path)
    assert (tmp_path / "telemetry.salt").read_bytes() == b"short"  # left as it was


def test_symlinked_salt_is_refused(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere"
    target.write_bytes(b"x" * SALT_BYTES)
    (tmp_path / "telemetry.salt").symlink_to(target)
    with pytest.raises(SaltError, match="symbolic link"):
        read_salt(tmp_path)


def test_hash_shape_determinism_and_project_separation() -> None:
    a, b = b"a" * 32, b"b" * 32
    h = hash_value("jsmith", a)
    assert h.startswith("hmac:")
    assert len(h) == 5 + 16
    assert is_hash(h)
    int(h[5:], 16)
    assert hash_value("jsmith", a) == h
    assert hash_value("jsmith", b) != h
    assert hash_value("jsmith2", a) != h
    assert hash_value(b"jsmith", a) == h


@given(st.text(), st.binary(min_size=32, max_size=32))
def test_hash_never_fails_and_never_contains_the_value(value: str, salt: bytes) -> None:
    h = hash_value(value, salt)
    assert len(h) == 21
    if len(value) >= 4:
        assert value not in h[5:]


def test_hash_accepts_lone_surrogates() -> None:
    assert is_hash(hash_value("\udcff\ud800", b"s" * 32))


@pytest.mark.parametrize(("kind", "value"), SCRUBBABLE, ids=[k for k, _ in SCRUBBABLE])
def test_scrub_removes_each_corpus_value_in_context(kind: str, value: str) -> None:
    text = f"while working on it ({value}) then, see {value}."
    cleaned = scrub(text, limit=10_000)
    assert value not in cleaned
    assert "while working on it" in cleaned


def test_scrub_tags_what_it_removed() -> None:
    assert scrub("mail john.smith@acme-corp.com now") == "mail <email> now"
    assert scrub("open /home/jsmith/app/x.py") == "open <path>"
    assert scrub(r"C:\Users\jsmith\repo") == "<path>"
    assert scrub("host 192.168.1.23 up") == "host <ip> up"
    assert scrub("key AKIAIOSFODNN7EXAMPLE") == "key <secret>"


def test_scrub_keeps_ordinary_text_and_commands() -> None:
    text = "/flow:implement v1.2.3 at 09:30 in std::vector, 3.14 ok"
    assert scrub(text) == text


def test_scrub_removes_terminal_escapes_and_bidi_controls() -> None:
    cleaned = scrub("ok\x1b[31mred\u202eevil\x07")
    assert "\x1b" not in cleaned
    assert "\u202e" not in cleaned
    assert "\x07" not in cleaned


def test_scrub_cuts_to_the_limit() -> None:
    assert len(scrub("x" * 1000, limit=50)) == 50


@settings(max_examples=200)
@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
    st.sampled_from(SCRUBBABLE),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=40),
)
def test_no_corpus_value_survives_arbitrary_surroundings(
    before: str, item: tuple[str, str], after: str
) -> None:
    _, value = item
    cleaned = scrub(f"{before} {value} {after}", limit=100_000)
    assert value not in cleaned


SHAPES = {
    "no-at": "a" * 1_000_000,
    "many-at": "@" * 1_000_000,
    "at-words": "a@" * 500_000,
    "long-path": "/x" * 500_000,
    "digits-dots": "1." * 500_000,
    "hex-colons": "ab:" * 333_333,
    "backslashes": "\\a" * 500_000,
    "tilde": "~/" * 500_000,
    "scheme-ish": "a://" * 250_000,
}


@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_scrub_is_linear_on_hostile_1mb_inputs(shape: str) -> None:
    """A complexity check, not a benchmark: quadratic behaviour would take minutes."""
    started = time.perf_counter()
    scrub(SHAPES[shape])
    hash_value(SHAPES[shape], b"k" * 32)
    assert time.perf_counter() - started < 2.0


@given(st.binary(max_size=200), st.binary(max_size=300))
def test_keyed_hasher_is_exactly_hmac_sha256(key: bytes, data: bytes) -> None:
    import hashlib
    import hmac

    from flowspec_telemetry.core.privacy import KeyedHasher

    assert KeyedHasher(key).hexdigest(data) == hmac.new(key, data, hashlib.sha256).hexdigest()


def _unescape(text: str) -> str:
    return text.encode("ascii", "backslashreplace").decode("unicode_escape")


PROBES = [
    (kind, _unescape(text), secret)
    for kind, text, secret in (
        line.split("\t")
        for line in (Path(__file__).parent / "data" / "scrub-probes.tsv")
        .read_text(encoding="utf-8")
        .splitlines()
        if line and not line.startswith("#")
    )
]


def _survives(secret: str, cleaned: str) -> bool:
    import unicodedata

    return secret in cleaned or secret in unicodedata.normalize("NFKC", cleaned)


@pytest.mark.parametrize(("kind", "text", "secret"), PROBES, ids=[p[0] for p in PROBES])
def test_scrub_removes_each_probe(kind: str, text: str, secret: str) -> None:
    """Issue 13.8: the 35 probe shapes (glued, multi-line, encoded, full-width ...)."""
    cleaned = scrub(f"before {text} after", limit=10_000)
    assert not _survives(secret, cleaned), cleaned
    assert cleaned.startswith("before")


@settings(max_examples=300)
@given(
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
    st.sampled_from(PROBES),
    st.text(alphabet=st.characters(blacklist_categories=("Cs",)), max_size=12),
)
def test_no_probe_survives_any_glue(before: str, probe: tuple[str, str, str], after: str) -> None:
    """Whatever touches the secret on either side (a word character, `:`, Unicode)."""
    _, text, secret = probe
    assert not _survives(secret, scrub(before + text + after, limit=100_000))
