"""What flowspec 0.4.008 ships: the built-in catalog (generated, do not edit).

Made by `python -m flowspec_telemetry.core._snapshot_maker SRC 0.4.008` from
flowspec's source tree; `tests/host/test_catalog_flowspec.py` checks that it still
matches the source in ../shared/flowspec. Names only: roles, commands, agents.
"""

from __future__ import annotations

RELEASE = "0.4.008"
PRIMARY = "dev"

# (id, display name, icon, agents, commands)
ROLES = (
    (
        "arch",
        "Architect",
        "🏗️",
        ("@software-architect", "@platform-engineer"),
        ("/arch:decide", "/arch:model"),
    ),
    (
        "dev",
        "Developer",
        "💻",
        ("@frontend-engineer", "@backend-engineer", "@ai-ml-engineer"),
        ("/dev:cleanup", "/dev:debug", "/dev:refactor"),
    ),
    (
        "sec",
        "Security Engineer",
        "🔒",
        ("@secure-by-design-engineer",),
        ("/sec:fix", "/sec:report", "/sec:scan", "/sec:triage"),
    ),
    (
        "qa",
        "QA Engineer",
        "✅",
        ("@quality-guardian", "@release-manager"),
        ("/qa:review", "/qa:test"),
    ),
    ("ops", "SRE/DevOps", "🚀", ("@sre-agent",), ("/ops:monitor", "/ops:respond", "/ops:scale")),
    ("all", "All Roles", "🌐", (), ()),
    ("pm", "pm", "", (), ()),
)

# (name, command, agents)
WORKFLOWS = (
    ("assess", "/flow:assess", ("@workflow-assessor",)),
    ("specify", "/flow:specify", ("@pm-planner",)),
    ("plan", "/flow:plan", ("@software-architect", "@platform-engineer")),
    (
        "implement",
        "/flow:implement",
        (
            "@frontend-engineer",
            "@backend-engineer",
            "@ai-ml-engineer",
            "@frontend-code-reviewer",
            "@backend-code-reviewer",
        ),
    ),
    (
        "validate",
        "/flow:validate",
        ("@quality-guardian", "@secure-by-design-engineer", "@tech-writer", "@release-manager"),
    ),
    ("submit-n-watch-pr", "/flow:submit-n-watch-pr", ("@pr-monitor",)),
)

COMMANDS = (
    "/flow:assess",
    "/flow:custom",
    "/flow:generate-prp",
    "/flow:implement",
    "/flow:init",
    "/flow:intake",
    "/flow:map-codebase",
    "/flow:plan",
    "/flow:research",
    "/flow:reset",
    "/flow:security_fix",
    "/flow:security_report",
    "/flow:security_triage",
    "/flow:security_web",
    "/flow:security_workflow",
    "/flow:specify",
    "/flow:submit-n-watch-pr",
    "/flow:validate",
    "/vibe",
    "/vibe:vibe",
)

AGENTS = (
    "@ai-ml-engineer",
    "@backend-code-reviewer",
    "@backend-engineer",
    "@business-validator",
    "@frontend-code-reviewer",
    "@frontend-engineer",
    "@platform-engineer",
    "@pm-planner",
    "@pr-monitor",
    "@product-requirements-manager",
    "@qa-engineer",
    "@quality-guardian",
    "@release-manager",
    "@researcher",
    "@secure-by-design-engineer",
    "@security-engineer",
    "@security-reviewer",
    "@software-architect",
    "@sre-agent",
    "@tech-writer",
    "@technical-writer",
    "@workflow-assessor",
)
