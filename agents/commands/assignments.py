"""``key=value`` arguments on the command line (task arguments, forced trial parameters)."""

from __future__ import annotations

import ast
from collections.abc import Iterable
from typing import Any


def parse_assignments(pairs: Iterable[str], what: str = "task arguments") -> dict[str, Any]:
    """``["dt=10", "coherences=[6.4, 51.2]", "stimulus=fixed"]`` -> ``{"dt": 10, ...}``.

    Values are Python literals (``ast.literal_eval``); a value that is not a literal stays a plain
    string, so ``stimulus=fixed`` needs no extra quoting. A ValueError names what is malformed.
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key.isidentifier():
            raise ValueError(f"expected {what} as key=value, got {pair!r}")
        try:
            out[key] = ast.literal_eval(text)
        except (ValueError, SyntaxError):
            out[key] = text
    return out
