"""Writing figures atomically, so a reader never sees half a PNG (runs are watched while they train).

Figures are built as bare ``matplotlib.figure.Figure`` objects (rendered by Agg), never through
pyplot, so nothing here touches a GUI backend or global state.
"""

from __future__ import annotations

import os
from pathlib import Path

from matplotlib.figure import Figure

from agents.atomic import write_atomic


def new_figure(width: float = 6.0, height: float = 4.0) -> Figure:
    """A pyplot-free figure with a constrained layout."""
    return Figure(figsize=(width, height), layout="constrained")


def save_figure(fig: Figure, path: str | os.PathLike, dpi: float | str = 120, tight: bool = False) -> Path:
    """Save ``fig`` to ``path`` atomically (the format follows the suffix, PNG by default); ``tight``: the
    canvas grows or shrinks to every artist, text outside the axes included."""
    path = Path(path)
    fmt = path.suffix.lstrip(".") or "png"
    extra = {"bbox_inches": "tight", "pad_inches": 0.05} if tight else {}
    return write_atomic(path, lambda tmp: fig.savefig(tmp, dpi=dpi, format=fmt, **extra))
