"""Where the command line's tables and panels go: a terminal at its own width; a pipe or a file
gets every column whole (rich would cut them to 80 characters there)."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

# Wide enough for any table the commands print; a table is only as wide as its columns need.
UNBOUNDED = 10_000


def console() -> Console:
    """The console for standard output: the terminal's, or one that never narrows a table."""
    from rich.console import Console

    if sys.stdout.isatty():
        return Console()
    return Console(width=UNBOUNDED)
