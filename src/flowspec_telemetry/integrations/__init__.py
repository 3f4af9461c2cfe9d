"""Adapters that feed telemetry from agent hosts (Claude Code) without effort from the host."""
