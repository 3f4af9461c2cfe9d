"""The package version, kept in a literal so reading it costs no import of importlib.metadata."""

__version__ = "0.1.0"
