"""Adapters that feed telemetry from agent hosts (Claude Code) without effort from the host."""

__all__: list[str] = []  # a namespace of modules: import them by name
