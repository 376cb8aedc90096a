"""Running a report's analyses and writing the report folder atomically.

    REPORT/index.md        the page: each analysis's figures, captions, key numbers, what was skipped and why
    REPORT/report.json     every number (schema: :mod:`agents.report.schema`)
    REPORT/figures/*.png   one file per figure, each labelled with the paper figure it corresponds to

An analysis that does not apply is skipped with its reason; one that raises is recorded as failed with
the error (the others still run), so a report is never silently incomplete.
"""

from __future__ import annotations

import datetime
import os
import platform
import traceback
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.atomic import json_safe, refuse_symlink, write_json_atomic, write_text_atomic
from agents.report.registry import Analysis
from agents.report.schema import SCHEMA, SCHEMA_VERSION
from agents.report.section import Section
from agents.report.subject import Skip, Subject

INDEX, JSON, FIGURES = "index.md", "report.json", "figures"


def run_analyses(subject: Subject, analyses: Sequence[Analysis], out: Path,
                 progress: Callable[[str], None] | None = None) -> list[Section]:
    """Each analysis into a :class:`Section` (done, skipped or failed), figures into ``out/figures``."""
    figures = refuse_symlink(out / FIGURES)
    figures.mkdir(parents=True, exist_ok=True)
    sections = []
    for analysis in analyses:
        section = Section(analysis.name, analysis.title, analysis.paper_figure, folder=figures)
        try:
            analysis.run(subject, section)
        except Skip as why:
            section.status, section.reason = "skipped", str(why)
        except (OSError, KeyboardInterrupt):
            raise
        except Exception as err:   # one analysis failing must not lose the others; recorded, not hidden
            section.status = "failed"
            section.reason = f"{type(err).__name__}: {err}"
            section.notes.append(traceback.format_exc(limit=3))
        if progress is not None:
            progress(f"{analysis.name}: {section.status}" + (f" ({section.reason})" if section.reason else ""))
        sections.append(section)
    return sections


def versions() -> dict[str, Any]:
    import neurotasks

    try:
        import torch

        torch_version = torch.__version__
    except ModuleNotFoundError:
        torch_version = None
    return {"neurotasks": getattr(neurotasks, "__version__", "unknown"), "python": platform.python_version(),
            "numpy": np.__version__, "torch": torch_version}


def report_data(subject: Subject, sections: Sequence[Section], only: Sequence[str] | None) -> dict[str, Any]:
    """The report.json content."""
    task = subject.config["task"]
    return json_safe({
        "schema": SCHEMA, "schema_version": SCHEMA_VERSION,
        "created": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "run": {"path": os.path.abspath(subject.path), "task": {"id": task["id"], "kwargs": task.get("kwargs") or {}},
                "model": subject.model_name, "agent": subject.agent, "metrics": subject.metrics},
        "settings": {"trials": subject.n_trials, "seed": subject.seed, "only": list(only) if only else None},
        "versions": versions(),
        "sections": [s.to_json() for s in sections]})


def _scalars(numbers: Any, prefix: str = "", depth: int = 0) -> list[str]:
    """'key: value' lines of the scalar numbers of a section, one level into nested objects."""
    lines = []
    for key, value in numbers.items():
        name = f"{prefix}{key}"
        if isinstance(value, bool) or value is None:
            continue
        if isinstance(value, (int, float, np.integer, np.floating)):
            lines.append(f"{name}: {value:.4g}" if isinstance(value, (float, np.floating)) else f"{name}: {value}")
        elif isinstance(value, dict) and depth < 1:
            lines.extend(_scalars(value, f"{name}.", depth + 1))
    return lines


def index_page(data: dict[str, Any]) -> str:
    """The Markdown page of a report."""
    run = data["run"]
    lines = [f"# Report: {run['task']['id']} ({run['model']})", "",
             f"Run `{run['path']}`; {data['settings']['trials']} trials per analysis, seed {data['settings']['seed']}; "
             f"made {data['created']} (schema {data['schema']} v{data['schema_version']}, every number in "
             f"[{JSON}]({JSON})).", ""]
    if run["agent"]:
        lines += ["An RL agent: only behavioural analyses apply (it exposes no rates).", ""]
    done = [s for s in data["sections"] if s["status"] == "done"]
    others = [s for s in data["sections"] if s["status"] != "done"]
    for section in done:
        lines += [f"## {section['title']}", "", f"*cf. {section['paper_figure']}*", ""]
        for figure in section["figures"]:
            lines += [f"![{figure['paper_figure']}]({figure['file']})", "",
                      f"{figure['caption']} (cf. {figure['paper_figure']})", ""]
        scalars = _scalars(section["numbers"])
        if scalars:
            lines += [f"- {line}" for line in scalars[:20]] + [""]
        lines += [f"> {note.splitlines()[0]}" for note in section["notes"]] + ([""] if section["notes"] else [])
    if others:
        lines += ["## Not in this report", ""]
        lines += [f"- **{s['name']}** ({s['status']}): {s['reason']}" for s in others] + [""]
    return "\n".join(lines)


def write_report(subject: Subject, analyses: Sequence[Analysis], out: str | os.PathLike,
                 only: Sequence[str] | None = None, progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Run ``analyses`` on ``subject`` and write the report folder ``out``; returns the report.json content."""
    out = refuse_symlink(Path(out))
    out.mkdir(parents=True, exist_ok=True)
    sections = run_analyses(subject, analyses, out, progress)
    data = report_data(subject, sections, only)
    write_json_atomic(out / JSON, data)
    write_text_atomic(out / INDEX, index_page(data))
    return data
