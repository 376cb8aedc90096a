"""The benchmark's table, built from the cells' run folders alone (metrics.json, psychometric.json, error.json).

``results.csv``: one row per cell (``COLUMNS``). ``status`` is ``reached`` (the task's criterion was
met), ``not reached`` (the run ended on its budget), ``failed`` (``error`` says why) or ``not run``
(never started, or interrupted before it ended: the next run of the command resumes it); a cell is
finished when metrics.json and psychometric.json are there (as ``cells.is_finished``). ``error`` is
the first line of the cell's error.json.

``results.md``: one row per task × model, the median over seeds and, where the seeds differ, the range
(min–max) in brackets; trials, updates and seconds to criterion are over the seeds that reached it.
"""

from __future__ import annotations

import csv
import io
import json
import math
import statistics
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from agents.atomic import write_text_atomic
from agents.benchmark.cells import ERROR, METRICS, PSYCHOMETRIC, Cell

RESULTS_CSV = "results.csv"
RESULTS_MD = "results.md"

COLUMNS = ("task", "model", "seed", "status", "criterion", "reached_criterion", "trials_to_criterion",
           "updates_to_criterion", "wall_s_to_criterion", "trials", "updates", "wall_s", "stopped",
           "final_metric", "final_value", "final_percent_correct", "psychometric_axis", "threshold", "bias", "lapse",
           "run", "error")


def _read_json(path: Path) -> dict[str, Any] | None:
    if not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def criterion_metric(task_id: str) -> str:
    """The metric of the task's own criterion (e.g. percent_correct, rmse)."""
    from neurotasks.registry import task_class

    return task_class(task_id).criterion.metric


def cell_row(cell: Cell, out: str | Path) -> dict[str, Any]:
    """The results.csv row of one cell, from its run folder (missing files leave cells empty)."""
    folder = cell.folder(out)
    row: dict[str, Any] = dict.fromkeys(COLUMNS)
    row.update(task=cell.task, model=cell.model, seed=cell.seed, run=str(folder.relative_to(out)))
    metrics = _read_json(folder / METRICS)
    error = _read_json(folder / ERROR)
    if metrics is not None:
        metric = criterion_metric(cell.task)
        final = metrics.get("final") or {}
        row.update(criterion=metrics.get("criterion"), reached_criterion=bool(metrics.get("criterion_met")),
                   trials_to_criterion=metrics.get("trials_to_criterion"),
                   updates_to_criterion=metrics.get("updates_to_criterion"),
                   wall_s_to_criterion=metrics.get("wall_s_to_criterion"), trials=metrics.get("trials"),
                   updates=metrics.get("updates"), wall_s=metrics.get("wall_s"), stopped=metrics.get("stopped"),
                   final_metric=metric, final_value=final.get(metric),
                   final_percent_correct=final.get("percent_correct"))
    psychometric = _read_json(folder / PSYCHOMETRIC)
    if psychometric is not None and psychometric.get("axis"):
        row.update(psychometric_axis=psychometric["axis"], threshold=psychometric.get("threshold"),
                   bias=psychometric.get("bias"), lapse=psychometric.get("lapse"))
    if metrics is not None and psychometric is not None:          # finished (an error.json would be stale)
        row["status"] = "reached" if metrics.get("criterion_met") else "not reached"
    elif error is not None:
        # the first line: Ray's errors run to pages (the whole of it stays in error.json)
        first = (str(error.get("error") or "").strip().splitlines() or ["unknown error"])[0]
        row.update(status="failed", error=first)
    else:
        row["status"] = "not run"
    return row


def collect(cells: Sequence[Cell], out: str | Path) -> list[dict[str, Any]]:
    """One row per cell, in the order of ``cells``."""
    return [cell_row(cell, Path(out)) for cell in cells]


# ---------------------------------------------------------------------- results.csv
def _csv_value(value: Any) -> Any:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return repr(value) if math.isfinite(value) else ""
    return value


def results_csv(rows: Sequence[Mapping[str, Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=list(COLUMNS), lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(row.get(k)) for k in COLUMNS})
    return buffer.getvalue()


# ---------------------------------------------------------------------- results.md
def _finite(values: Sequence[Any]) -> list[float]:
    return [float(v) for v in values if isinstance(v, (int, float)) and not isinstance(v, bool)
            and math.isfinite(float(v))]


def median_range(values: Sequence[Any], fmt: str) -> str:
    """``median (min–max)`` of the finite values, ``median`` alone where they are all one value; ``—`` if
    there are none."""
    found = _finite(values)
    if not found:
        return "—"
    text = format(statistics.median(found), fmt)
    low, high = format(min(found), fmt), format(max(found), fmt)
    return text if low == high else f"{text} ({low}–{high})"


def summary(rows: Sequence[Mapping[str, Any]]) -> list[dict[str, Any]]:
    """One entry per task × model (first-seen order): the rows of its seeds, and how many reached the criterion."""
    groups: dict[tuple[str, str], list[Mapping[str, Any]]] = {}
    for row in rows:
        groups.setdefault((row["task"], row["model"]), []).append(row)
    out = []
    for (task, model), group in groups.items():
        reached = [r for r in group if r["status"] == "reached"]
        out.append({"task": task, "model": model, "rows": group, "reached": reached,
                    "trials_to_criterion": statistics.median(_finite([r["trials_to_criterion"] for r in reached]))
                    if _finite([r["trials_to_criterion"] for r in reached]) else math.nan})
    return out


def results_markdown(rows: Sequence[Mapping[str, Any]], command: str = "", settings: str = "") -> str:
    """The per task × model table, then the failed and unfinished cells."""
    lines = ["# Benchmark results", ""]
    if command:
        lines += [f"`{command}`", ""]
    if settings:
        lines += [settings, ""]
    lines += ["| task | model | reached criterion | trials to criterion | updates to criterion | "
              "seconds to criterion | final metric | final value | psychometric threshold | psychometric bias |",
              "|---|---|---|---|---|---|---|---|---|---|"]
    for entry in summary(rows):
        group, reached = entry["rows"], entry["reached"]
        metric = next((r["final_metric"] for r in group if r.get("final_metric")), "—")
        lines.append("| " + " | ".join([
            entry["task"], entry["model"], f"{len(reached)}/{len(group)}",
            median_range([r["trials_to_criterion"] for r in reached], ",.0f"),
            median_range([r["updates_to_criterion"] for r in reached], ",.0f"),
            median_range([r["wall_s_to_criterion"] for r in reached], ".1f"),
            metric.replace("_", " "),
            median_range([r["final_value"] for r in group], ".3g"),
            median_range([r["threshold"] for r in group], ".3g"),
            median_range([r["bias"] for r in group], ".3g"),
        ]) + " |")
    failed = [r for r in rows if r["status"] == "failed"]
    if failed:
        lines += ["", "Failed runs:", ""]
        lines += [f"- {r['task']} {r['model']} seed {r['seed']}: {r['error']}" for r in failed]
    unfinished = [r for r in rows if r["status"] == "not run"]
    if unfinished:
        lines += ["", f"Not run yet ({len(unfinished)}; the same command resumes them): "
                  + ", ".join(f"{r['task']} {r['model']} seed {r['seed']}" for r in unfinished)]
    lines += ["", "Medians over seeds, (min–max) where they differ; trials, updates and seconds to criterion over the "
              "seeds that reached it. The psychometric fit (cumulative Gaussian with lapse, on the coherence "
              "signed toward choice 1; tasks with a coherence axis only) is of fresh validation trials."]
    return "\n".join(lines) + "\n"


def write_results(out: str | Path, rows: Sequence[Mapping[str, Any]], command: str = "", settings: str = ""
                  ) -> list[Path]:
    """results.csv and results.md in ``out``, atomically."""
    out = Path(out)
    return [write_text_atomic(out / RESULTS_CSV, results_csv(rows)),
            write_text_atomic(out / RESULTS_MD, results_markdown(rows, command, settings))]
