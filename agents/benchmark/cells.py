"""A benchmark cell (task × model × seed): its run folder, and running it.

    OUT/runs/PerceptualDecision-v0_eirnn_seed0/
        config.json, model.safetensors, checkpoint.pt, history.csv, metrics.json   (the trainer's run folder)
        psychometric.json   threshold and bias of the trained network (tasks with a coherence axis)
        cell.log            what the training printed
        error.json          only if the cell failed: the exception and its traceback

:func:`run_cell` is plain Python: it knows nothing of Ray, so a cell runs the same in a Ray worker,
in a loop or at a prompt. A cell is finished when metrics.json and psychometric.json are both there;
running it again then does nothing. A cell stopped half-way resumes from the trainer's last
checkpoint (``agents.train`` resumes a folder it is given again). A failure of the cell itself
(bad data, a diverging network, a bug in a model) is caught, written to error.json and returned,
so one failed cell never stops the others; the next run of the cell tries again.
"""

from __future__ import annotations

import contextlib
import time
import traceback
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from agents.atomic import write_json_atomic

RUNS = "runs"
PSYCHOMETRIC = "psychometric.json"
ERROR = "error.json"
LOG = "cell.log"
METRICS = "metrics.json"


@dataclass(frozen=True)
class Budget:
    """What one cell may spend; the same for every cell of a benchmark."""

    max_minutes: float | None = None        #: wall-clock minutes per call of the trainer
    max_trials: int | None = None           #: training trials over the whole run
    preset: str = "fast"                    #: the supervised trainer's recipe (agents.training.presets)
    fit_trials: int = 1000                  #: about this many fresh trials for the psychometric fit

    def __post_init__(self) -> None:
        if self.max_minutes is not None and not self.max_minutes > 0:
            raise ValueError(f"max_minutes must be > 0, got {self.max_minutes!r}")
        if self.max_trials is not None and (isinstance(self.max_trials, bool) or not isinstance(self.max_trials, int)
                                            or self.max_trials < 1):
            raise ValueError(f"max_trials must be a positive int, got {self.max_trials!r}")
        if isinstance(self.fit_trials, bool) or not isinstance(self.fit_trials, int) or self.fit_trials < 1:
            raise ValueError(f"fit_trials must be a positive int, got {self.fit_trials!r}")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Cell:
    """One training run of the benchmark."""

    task: str
    model: str
    seed: int

    @property
    def name(self) -> str:
        """The run folder's name, e.g. ``PerceptualDecision-v0_eirnn_seed0``."""
        return f"{self.task}_{self.model}_seed{self.seed}"

    def folder(self, out: str | Path) -> Path:
        return Path(out) / RUNS / self.name

    def describe(self) -> str:
        return f"{self.task} {self.model} seed {self.seed}"


def is_finished(folder: str | Path) -> bool:
    """Whether a cell's run folder is complete (training ended and its behaviour measured)."""
    folder = Path(folder)
    return (folder / METRICS).is_file() and (folder / PSYCHOMETRIC).is_file()


def run_cell(cell: Cell, budget: Budget, out: str | Path, *, threads: int = 1, figures: bool = False
             ) -> dict[str, Any]:
    """Train ``cell`` into its run folder under ``out`` (or resume it), then measure its psychometric function.

    ``threads``: torch's intra-op threads for the cell (the CPUs the cell was given). ``figures``: draw
    the run's own figures too. Returns ``{"status": "finished" | "failed", "error": str | None,
    "seconds": float}``; a failure is also written to the folder's error.json.
    """
    import torch

    from agents.benchmark import zoo
    from agents.benchmark.behaviour import psychometric_of_run

    folder = cell.folder(out)
    started = time.perf_counter()
    if is_finished(folder):
        return {"status": "finished", "error": None, "seconds": 0.0}
    folder.mkdir(parents=True, exist_ok=True)
    (folder / ERROR).unlink(missing_ok=True)
    previous_threads = torch.get_num_threads()
    torch.set_num_threads(max(1, int(threads)))
    try:
        entrant = zoo.resolve(cell.model)
        with open(folder / LOG, "a", encoding="utf-8") as log, contextlib.redirect_stdout(log), \
                contextlib.redirect_stderr(log):
            print(f"--- {time.strftime('%Y-%m-%d %H:%M:%S')} {cell.describe()}", flush=True)
            if not (folder / METRICS).is_file():
                entrant.train(cell.task, folder, seed=cell.seed, budget=budget, figures=figures, threads=threads)
            psychometric = psychometric_of_run(folder, entrant.evaluate, cell.seed, budget.fit_trials)
        write_json_atomic(folder / PSYCHOMETRIC, psychometric)
        (folder / ERROR).unlink(missing_ok=True)       # written meanwhile by a rival run of this cell, if any
    except Exception as err:  # a cell's failure is its result: reported, never fatal to the benchmark
        return record_failure(folder, err, time.perf_counter() - started)
    finally:
        torch.set_num_threads(previous_threads)
    return {"status": "finished", "error": None, "seconds": time.perf_counter() - started}


def record_failure(folder: str | Path, err: BaseException, seconds: float = 0.0) -> dict[str, Any]:
    """Write ``err`` to the cell's error.json; the outcome :func:`run_cell` returns for it."""
    message = f"{type(err).__name__}: {err}".strip()
    details = "".join(traceback.format_exception(type(err), err, err.__traceback__))
    write_json_atomic(Path(folder) / ERROR, {"error": message, "traceback": details})
    return {"status": "failed", "error": message, "seconds": seconds}
