"""Drop-in modules for hosts moving from their own telemetry API to this package.

`flowspec_telemetry.compat.flowspec` has the public API and module layout of
flowspec's `flowspec_cli.telemetry`, so flowspec switches by changing its
import lines. Each module here only translates: consent, hashing and storage
are this package's.
"""

__all__: list[str] = []
