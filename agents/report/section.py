"""One analysis's part of a report: its numbers, its figures (each labelled with the paper figure it
corresponds to) and notes, or the reason it was skipped or failed."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from matplotlib.figure import Figure

from agents.plots.save import save_figure


@dataclass(frozen=True)
class FigureEntry:
    """A written figure: ``file`` (relative to the report folder), ``paper_figure`` (e.g. "Song et al. 2016,
    Fig. 2C"), ``caption``."""

    file: str
    paper_figure: str
    caption: str


@dataclass
class Section:
    """What one analysis reports (see the package docstring for the JSON it becomes)."""

    name: str
    title: str
    paper_figure: str
    status: str = "done"                 #: "done", "skipped" or "failed"
    reason: str = ""                     #: why it was skipped or failed
    numbers: dict[str, Any] = field(default_factory=dict)
    figures: list[FigureEntry] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    folder: Path | None = None           #: where figures go (the report's figures/ folder)

    def figure(self, fig: Figure, stem: str, caption: str, paper_figure: str | None = None) -> None:
        """Save ``fig`` as ``figures/<stem>.png`` (atomically) and record it, titled with the paper figure."""
        if self.folder is None:
            raise RuntimeError("the section has no figure folder")
        label = paper_figure or self.paper_figure
        fig.text(0.995, 0.0, f"cf. {label}", ha="right", va="top", fontsize=7, color="0.35")  # below the axes
        path = save_figure(fig, Path(self.folder) / f"{stem}.png", dpi=90, tight=True)
        self.figures.append(FigureEntry(file=os.path.join(Path(self.folder).name, path.name), paper_figure=label,
                                        caption=caption))

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "title": self.title, "paper_figure": self.paper_figure, "status": self.status,
                "reason": self.reason, "numbers": self.numbers,
                "figures": [{"file": f.file, "paper_figure": f.paper_figure, "caption": f.caption}
                            for f in self.figures],
                "notes": list(self.notes)}
