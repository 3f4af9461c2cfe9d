"""Run the real console script on a real pseudo-terminal of a given size (stdlib `pty`).

The width a command sees comes from the terminal itself (`TIOCSWINSZ`), not
from `COLUMNS`, so the tests see what a person at a 60-column terminal sees.
`answers` are typed only once the program has printed the text each waits
for, as a person would; `interrupt` sends Ctrl-C through the terminal's line
discipline (a real SIGINT), not a simulated exception.
"""

from __future__ import annotations

import fcntl
import os
import pty
import re
import select
import struct
import subprocess
import termios
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from ..conftest import CONSOLE_SCRIPT

_ANSI = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b\][^\x07]*\x07")


@dataclass
class PtyResult:
    output: str  # what the terminal showed, escape sequences removed, \r\n as \n
    returncode: int


def run_on_pty(
    *args: str,
    cwd: Path,
    cols: int = 80,
    rows: int = 50,
    answers: Sequence[tuple[str, str]] = (),
    interrupt_after: str | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 30,
) -> PtyResult:
    """Run `flowspec-telemetry ARGS` with stdin, stdout and stderr on one new terminal."""
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))
    full_env = {k: v for k, v in os.environ.items() if k not in ("COLUMNS", "LINES")}
    full_env["TERM"] = "xterm-256color"
    full_env.update(env or {})
    proc = subprocess.Popen(
        [str(CONSOLE_SCRIPT), *args],
        cwd=cwd,
        env=full_env,
        stdin=slave,
        stdout=slave,
        stderr=slave,
        start_new_session=True,
        preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),  # noqa: PLW1509
    )
    os.close(slave)
    pending = list(answers)
    raw = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.1)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # EIO: the program closed the terminal
                    break
                if not chunk:
                    break
                raw += chunk
            text = raw.decode("utf-8", "replace")
            if pending and pending[0][0] in text:
                os.write(master, pending.pop(0)[1].encode())
            if interrupt_after is not None and interrupt_after in text:
                os.write(master, b"\x03")  # Ctrl-C: the terminal sends SIGINT
                interrupt_after = None
            if proc.poll() is not None and not ready:
                break
        else:
            proc.kill()
            raise TimeoutError(f"{args} did not finish; output so far: {raw!r}")
        code = proc.wait(timeout=10)
    finally:
        os.close(master)
    text = _ANSI.sub("", raw.decode("utf-8", "replace")).replace("\r\n", "\n")
    return PtyResult(text, code)
