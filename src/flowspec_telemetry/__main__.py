"""`python -m flowspec_telemetry ...`: the same CLI as the `flowspec-telemetry` script.

For when the console script is not on PATH (a venv not activated, a host
that vendors the package): it goes through the same entry point, so `track`
and `hook` keep their fast, standard-library-only path.
"""

from __future__ import annotations

import sys

from flowspec_telemetry.cli.entry import main

if __name__ == "__main__":
    sys.exit(main())
