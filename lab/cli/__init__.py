"""The `lab` command. `main` answers a no-op `lab up` before the CLI framework loads
(`lab.fingerprint`); everything else goes to the root group in `lab.cli.root`."""

from __future__ import annotations

import sys
from typing import Any


def main() -> None:
    from lab.fingerprint import fast_up

    argv = sys.argv[1:]
    if fast_up(argv):
        return
    from lab.cli.root import run

    run(argv)


def __getattr__(name: str) -> Any:  # `from lab.cli import app, COMMANDS` (tests, tools)
    if name in ("app", "COMMANDS", "LazyGroup"):
        from lab.cli import root

        return getattr(root, name)
    raise AttributeError(name)
