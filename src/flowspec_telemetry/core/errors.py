"""Every exception this package raises on purpose, under one base.

A host that wants to catch "anything flowspec-telemetry refused" catches
`TelemetryError`; code that needs one case catches that class. Each class
also keeps the builtin base it always had (`ValueError` for bad input,
`OSError` for a file or store that cannot be used, `LookupError` for a
missing project), so `except ValueError` and `except OSError` written
against earlier releases keep working. `tests/test_errors.py` checks that
every exception class of the package is in this tree and under this base.

    TelemetryError                            (defined in)
    ├── ConsentFileError    (ValueError)      core.consent_rules: a consent record we cannot read
    ├── CatalogError        (ValueError)      core.roles: a workflow file that is not a catalog
    ├── QueryError          (ValueError)      history.selection: a bad date, type or role filter
    ├── OutputError         (ValueError)      report._output: a path we must not write
    │   └── ExportError                       report.export: a bad export format or output
    ├── WeekError           (ValueError)      report.weekly: not an ISO week, or not shareable
    ├── ShareRefusedError                     report.sharing: why a week cannot be shared
    ├── ConfigFileError     (ValueError)      integrations._config_file: left as it was
    │   └── SettingsError                     integrations.claude_settings: do not touch that file
    ├── NoProjectError      (LookupError)     consent.answers: a project action outside any project
    ├── SaltError           (OSError)         core.privacy: a salt file that cannot be trusted
    ├── UnsafeFileError     (OSError)         core._read: a project file that is not a regular
    │                                         file of a sane size: refused, never read
    ├── StateRefusedError   (OSError)         integrations._hook_state: a hook state file we may
    │                                         not use (FIFO, symlink, folder)
    ├── StoreError          (OSError)         here: the local event files, or an org database,
    │   │                                     cannot be used (`usage`: the --db value is wrong)
    │   ├── FileGone                          core.store: the kept-open file was deleted; reopen
    │   └── MigrateError                      history.migrate: the store cannot be migrated now
    ├── CliError                              cli.exit_codes: a command failed (one line, `code`)
    └── UsageError                            cli.fast: bad `track`/`hook` usage (exit 2)

Standard library only and no imports: the tracking path loads this module.
"""

from __future__ import annotations

__all__ = ["StoreError", "TelemetryError"]


class TelemetryError(Exception):
    """The base of every exception flowspec-telemetry raises on purpose."""


class StoreError(TelemetryError, OSError):
    """A store cannot be used: the project's event files, or an org database.

    One class for both (they were two unrelated `StoreError`s). Raised as
    `StoreError(errno, message)` for the local files, as `StoreError(message)`
    for an org store; `usage` is True when the `--db` value itself is wrong
    (the CLI then exits 2 instead of 1).
    """

    def __init__(self, *args: object, usage: bool = False) -> None:
        super().__init__(*args)
        self.usage = usage
