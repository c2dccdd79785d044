"""Local stand-ins for the platforms: real HTTP servers on 127.0.0.1 that speak each platform's
documented wire format (paths, authentication, bodies, success and error payloads), record what
they receive, and can be told to answer the next calls with a given error. The tests, the
benchmarks and `publisher demo` use them; one module per platform, each declaring its contract
rows (`CONTRACTS`), and `config` for pointing channels at them."""

from __future__ import annotations

import importlib
import pkgutil
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from standins.base import Contract


def contracts() -> list[Contract]:
    """Every platform's contract rows, from the stand-in modules that declare them."""
    found: list[Contract] = []
    for module in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        found.extend(getattr(importlib.import_module(f"{__name__}.{module.name}"), "CONTRACTS", ()))
    return found
