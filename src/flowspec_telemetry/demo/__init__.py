"""A demo project with a realistic history, so a newcomer sees the product at once.

Everything is recorded through the public API (a `Tracker` with a replay
clock), so the demo exercises exactly the code a host uses: catalog, consent,
hashing and the store. The history is seeded, so the same counts come out
every time (only the salted hashes and ids differ).
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Final

from flowspec_telemetry.core import consent_rules
from flowspec_telemetry.core._files import write_private
from flowspec_telemetry.core.events import new_invocation_id
from flowspec_telemetry.core.names import FLOWSPEC, ToolNames
from flowspec_telemetry.core.tracker import Tracker

__all__ = [
    "DAYS",
    "PERSONAS",
    "START_NS",
    "Persona",
    "build_demo",
    "workflow_text",
]

DAYS: Final = 21
START_NS: Final = 1_793_577_600 * 1_000_000_000  # 2026-11-02T00:00:00Z, a Monday
_DAY_NS: Final = 86_400 * 1_000_000_000


@dataclass(frozen=True, slots=True)
class Persona:
    """One simulated person: their role and habits."""

    role: str
    commands: tuple[tuple[str, int], ...]  # (command, weight)
    security_rate: float  # chance a session also calls @secure-by-design-engineer
    click_rate: float  # chance an offered handoff is taken
    fail_rate: float
    sessions_per_day: int


PERSONAS: Final = (
    Persona(
        "dev", (("/flow:implement", 8), ("/flow:validate", 3), ("/flow:plan", 1)), 0.3, 0.7, 0.12, 4
    ),
    Persona(
        "dev",
        (("/flow:implement", 6), ("/flow:specify", 1), ("/flow:validate", 2)),
        0.1,
        0.5,
        0.1,
        3,
    ),
    Persona("dev", (("/flow:implement", 5), ("/flow:assess", 1)), 0.0, 0.4, 0.15, 3),
    Persona(
        "arch", (("/flow:specify", 4), ("/flow:plan", 5), ("/flow:assess", 2)), 0.2, 0.8, 0.05, 2
    ),
    Persona("sec", (("/flow:validate", 5), ("/flow:assess", 1)), 1.0, 0.6, 0.08, 2),
    Persona("qa", (("/flow:validate", 6), ("/flow:implement", 1)), 0.15, 0.55, 0.1, 2),
    Persona("ops", (("/flow:operate", 4), ("/flow:validate", 1)), 0.05, 0.3, 0.2, 1),
)

_COMMAND_AGENTS: Final = {
    "/flow:assess": ("@workflow-assessor",),
    "/flow:specify": ("@pm-planner",),
    "/flow:research": ("@researcher",),
    "/flow:plan": ("@software-architect", "@platform-engineer"),
    "/flow:implement": ("@backend-engineer", "@frontend-engineer", "@ai-ml-engineer"),
    "/flow:validate": ("@quality-guardian", "@release-manager"),
    "/flow:operate": ("@sre-agent",),
}
_NEXT_AGENT: Final = {
    "/flow:specify": "@software-architect",
    "/flow:plan": "@backend-engineer",
    "/flow:implement": "@quality-guardian",
    "/flow:validate": "@release-manager",
    "/flow:assess": "@pm-planner",
}


class _Clock:
    """A replay clock that only moves forward."""

    def __init__(self, start_ns: int) -> None:
        self.now = start_ns

    def __call__(self) -> int:
        return self.now

    def advance(self, rng: random.Random, low_s: float, high_s: float) -> None:
        self.now += int(rng.uniform(low_s, high_s) * 1e9)


def workflow_text() -> str:
    """The demo's `flowspec_workflow.yml` (flowspec's sample role catalog)."""
    return (
        files("flowspec_telemetry.demo").joinpath("demo_workflow.yml").read_text(encoding="utf-8")
    )


def build_demo(
    folder: Path, *, names: ToolNames = FLOWSPEC, seed: int = 7, days: int = DAYS
) -> int:
    """Create the demo project in `folder` and return how many events it recorded."""
    folder.mkdir(parents=True, exist_ok=True)
    # A committed, shared file (not private): readable by the team, like the real one.
    write_private(folder / names.workflow_file, workflow_text().encode("utf-8"), mode=0o644)
    consent_rules.write_record(
        consent_rules.project_config_path(folder, names), consent_rules.new_record("yes")
    )
    sim = _Simulation(folder, names, seed)
    for person in PERSONAS:
        sim.emit("role.selected", role=person.role, source="init")
    for day in range(days):
        if day % 7 in (5, 6):  # weekends are quiet
            continue
        sim.clock.now = START_NS + day * _DAY_NS + 8 * 3600 * 1_000_000_000
        for index, person in enumerate(PERSONAS):
            role = person.role
            if index == 1 and day >= 9:  # one developer moves to QA halfway through
                if day == 9:
                    sim.emit("role.changed", role="qa", previous_role="dev", source="cli")
                role = "qa"
            for _ in range(person.sessions_per_day):
                sim.session(person, role, f"demo-session-{day}-{index}-{sim.rng.random()}")
    return sim.count


class _Simulation:
    """Replays people's sessions through a `Tracker` with a replay clock."""

    def __init__(self, folder: Path, names: ToolNames, seed: int) -> None:
        self.folder = folder
        self.rng = random.Random(seed)
        self.clock = _Clock(START_NS)
        self.tracker = Tracker(names, clock=self.clock, synthetic=True)
        self.count = 0

    def emit(self, event_type: str, **fields: object) -> None:
        if self.tracker.track(event_type, project_root=self.folder, **fields):
            self.count += 1
        self.clock.advance(self.rng, 0.5, 40)

    def ms_since(self, start_ns: int) -> int:
        return (self.clock.now - start_ns) // 1_000_000

    def session(self, person: Persona, role: str, session: str) -> None:
        """One command run: started, agents, maybe a security review, the end, a handoff."""
        rng = self.rng
        command = rng.choices([c for c, _ in person.commands], [w for _, w in person.commands])[0]
        inv = new_invocation_id()
        common: dict[str, object] = {"role": role, "command": command, "session_id": session}
        self.emit("command.started", invocation_id=inv, **common)
        started = self.clock.now
        agents = list(_COMMAND_AGENTS.get(command, ()))
        agents = agents[: rng.randint(1, len(agents))] if agents else []
        if rng.random() < person.security_rate:
            agents.append("@secure-by-design-engineer")
        for agent in agents:
            self.emit("agent.invoked", agent=agent, **common)
            agent_start = self.clock.now
            self.clock.advance(rng, 20, 400)
            ok = rng.random() > person.fail_rate / 2
            self.emit(
                "agent.completed" if ok else "agent.failed",
                agent=agent,
                duration_ms=self.ms_since(agent_start),
                outcome="success" if ok else "failure",
                **common,
            )
        self.clock.advance(rng, 30, 900)
        roll = rng.random()
        if roll < person.fail_rate:
            self.emit(
                "command.failed",
                invocation_id=inv,
                duration_ms=self.ms_since(started),
                outcome="failure",
                **common,
            )
            return
        if roll < person.fail_rate + 0.08:
            return  # abandoned: started, never completed
        self.emit(
            "command.completed",
            invocation_id=inv,
            duration_ms=self.ms_since(started),
            outcome="success",
            **common,
        )
        nxt = _NEXT_AGENT.get(command)
        if nxt:
            handoff = {"from_agent": _COMMAND_AGENTS[command][0], "to_agent": nxt}
            self.emit("handoff.offered", **handoff, **common)
            if rng.random() < person.click_rate:
                self.emit("handoff.clicked", **handoff, **common)
        self.clock.advance(rng, 600, 5400)
