"""What the tracker takes as it is, and what reaches a terminal (issues 13.8, 13.9, 13.11).

13.9: a value is stored raw only when it is exactly what this package itself
produces, and only in a field where such a value belongs: our invocation ids
(`inv_` + an ASCII Crockford base32 ULID) and our keyed hashes (`hmac:` + 16
lower-case hex) in the catalog-or-hash fields. Anything that merely looks
similar (Unicode digits, lower case, letters Crockford leaves out, a hash in
`outcome` or `source`) is hashed like any other unknown value.

13.8 (second half): a version field takes only what a version looks like.
13.11: every error line and every displayed value shows escapes, never obeys them.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from flowspec_telemetry.cli.app import run
from flowspec_telemetry.core.events import new_invocation_id
from flowspec_telemetry.core.privacy import version_text
from flowspec_telemetry.core.tracker import Tracker
from flowspec_telemetry.history import reader

from .cli._events import event as make_event

CROCKFORD = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"


def _last(root: Path) -> dict[str, object]:
    return list(reader.iter_events(root))[-1]


def test_our_own_invocation_ids_and_hashes_pass_through(consented: Path) -> None:
    tracker = Tracker()
    inv = new_invocation_id()
    agent = tracker.stored("agent", "someone-new", consented)
    command = tracker.stored("command", "/x:private-thing", consented)
    assert agent and agent.startswith("hmac:") and command and command.startswith("hmac:")
    tracker.track("agent.invoked", agent=agent, command=command, invocation_id=inv,
                  project_root=consented)  # fmt: skip
    stored = _last(consented)
    assert (stored["agent"], stored["command"], stored["invocation_id"]) == (agent, command, inv)


lookalike_invocations = st.one_of(
    # Unicode letters and digits (isalnum() took them): Arabic-Indic, full-width, Greek
    st.text(st.sampled_from("٣４ΑΩéß"), min_size=1, max_size=3).map(
        lambda odd: "inv_" + (odd + "0" * 26)[:26]
    ),
    # ASCII, but not what ulid() makes: lower case, I L O U, a time beyond 48 bits
    st.sampled_from(["a", "I", "L", "O", "U", "8", "z"]).map(lambda c: "inv_" + c + "0" * 25),
    st.text(st.sampled_from(CROCKFORD), min_size=20, max_size=30)
    .filter(lambda t: len(t) != 26)
    .map(lambda t: "inv_" + t),
)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lookalike_invocations)
def test_an_invocation_id_that_only_looks_like_ours_is_hashed(consented: Path, value: str) -> None:
    tracker = Tracker()
    tracker.track("command.started", command="/flow:implement", invocation_id=value,
                  project_root=consented)  # fmt: skip
    tracker.close()
    stored = _last(consented)["invocation_id"]
    assert stored != value and str(stored).startswith("hmac:")


@pytest.mark.parametrize("field", ["outcome", "source"])
def test_a_hash_is_not_taken_as_it_is_where_no_hash_belongs(consented: Path, field: str) -> None:
    tracker = Tracker()
    fake = "hmac:0123456789abcdef"
    etype = "command.completed" if field == "outcome" else "role.selected"
    tracker.track(etype, role="dev", project_root=consented, **{field: fake})
    tracker.close()
    stored = _last(consented)[field]
    assert stored != fake and str(stored).startswith("hmac:")


@pytest.mark.parametrize(
    "value", ["HMAC:0123456789abcdef", "hmac:0123456789ABCDEF", "hmac:0123456789abcde\u0661",
              "hmac:0123456789abcdef\n", "hmac:0123456789abcdef0"]
)  # fmt: skip
def test_a_hash_of_another_shape_is_hashed(consented: Path, value: str) -> None:
    tracker = Tracker()
    tracker.track("agent.invoked", agent=value, project_root=consented)
    tracker.close()
    stored = _last(consented)["agent"]
    assert stored != value and str(stored).startswith("hmac:")


@pytest.mark.parametrize(
    ("given", "kept"),
    [
        ("1.0", "1.0"),
        ("0.4.008", "0.4.008"),
        ("v2.3.1-rc.1+build.5", "v2.3.1-rc.1+build.5"),
        ("2024.11.1", "2024.11.1"),
        (b"1.0\xff", "unknown"),
        ("/home/jsmith/app", "unknown"),
        ("1.0 john.smith@acme-corp.com", "unknown"),
        ("1.0+ghp_1234567890abcdefghijklmnopqrstuvwxyzAB", "unknown"),
        ("jsmith", "unknown"),
        ("1.0\x1b[31m", "unknown"),
        ("1" * 40, "unknown"),
        ("١.٠", "unknown"),
    ],
)
def test_a_version_field_takes_only_a_version(
    consented: Path, given: str | bytes, kept: str
) -> None:
    tracker = Tracker(tool_version=given)  # type: ignore[arg-type]  # bytes: a host's mistake
    assert tracker.track("role.selected", role="dev", project_root=consented)
    tracker.close()
    raw = (consented / ".flowspec" / "telemetry.jsonl").read_bytes().splitlines()[-1]
    assert json.loads(raw)["context"]["tool_version"] == kept
    raw.decode("ascii")  # nothing a strict reader must repair


@settings(deadline=None)  # a bound on behaviour, not on time: the machine is shared
@given(st.text(max_size=40))
def test_version_text_is_a_version_or_unknown(text: str) -> None:
    kept = version_text(text)
    assert kept == "unknown" or (kept == text and text.isascii() and text[0] in "v0123456789")


# ------------------------------------------------------------------ 13.11


def test_an_os_error_naming_a_hostile_folder_prints_escapes_not_raw(
    project: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """The generic OS-error line of every command (the class, not one command)."""
    evil = str(project / "x\x1b]0;pwned\x07\x1b[2J\u202e\u061c\U000e0041")

    def broken(*_: object, **__: object) -> None:
        raise FileNotFoundError(2, "No such file or directory", evil)

    monkeypatch.chdir(project)
    from flowspec_telemetry.cli import _data_cmds

    monkeypatch.setattr(_data_cmds, "project_stats", broken)  # `stats` meets an OS error
    code = run(["stats"])
    err = capsys.readouterr().err
    assert code != 0
    for raw in ("\x1b", "\x07", "\u202e", "\u061c", "\U000e0041"):
        assert raw not in err
    assert "\\x1b]0;pwned\\x07" in err and "\\u061c" in err and "\\U000e0041" in err
    assert len(err.strip().splitlines()) == 1


def test_arabic_letter_mark_and_tag_characters_never_reach_view_or_html(
    project: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    hidden = "dev\u061c\U000e0069\U000e0067\U000e006e\U000e006f\U000e0072\U000e0065"
    folder = project / ".flowspec"
    folder.mkdir()
    line = json.dumps(make_event(0, role=hidden, agent=hidden, command=hidden))
    (folder / "telemetry.jsonl").write_text(line + "\n")
    os.chmod(folder / "telemetry.jsonl", 0o600)
    monkeypatch.chdir(project)
    monkeypatch.setenv("COLUMNS", "300")
    page = tmp_path / "r.html"
    assert run(["view"]) == 0
    assert run(["report", "--html", str(page)]) == 0
    shown = capsys.readouterr().out
    html = page.read_text(encoding="utf-8")
    for text in (shown, html):
        assert "\u061c" not in text
        assert not any(0xE0000 <= ord(c) <= 0xE007F for c in text)
    assert "\\u061c" in shown  # shown as an escape, so a reader sees something was there
