"""Draw one trial of every registered task to PNG: the gallery linked from the README task table.

    python examples/task_gallery.py                  # writes examples/gallery/<ID>.png
    python examples/task_gallery.py --out /tmp/gallery --seed 3

Each picture shows a regular (non-catch) trial: the inputs the agent sees, the target outputs
(dashed grey where the error mask leaves them free), the periods, and the ground-truth action.
New tasks appear here by themselves: the script iterates over ``neurotasks.list_tasks()``.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import neurotasks
from agents.plots.task_trial import plot_trial

GALLERY = Path(__file__).resolve().parent / "gallery"


def draw_task(task_id: str, out: Path = GALLERY, seed: int = 0) -> Path:
    """One regular trial of ``task_id`` with its default arguments, saved as ``out/<ID>.png``."""
    task = neurotasks.make_task(task_id)
    batch = task.trials(1, rng=seed, catch=False)
    path = out / f"{task_id}.png"
    plot_trial(task, batch, index=0, path=path)
    return path


def draw_gallery(out: Path = GALLERY, seed: int = 0) -> tuple[list[Path], dict[str, str]]:
    """Every registered task into ``out``; returns the paths written and the tasks that failed (id -> error).

    One broken task does not stop the others: tasks are written by many hands.
    """
    paths, failures = [], {}
    for task_id in neurotasks.list_tasks():
        try:
            paths.append(draw_task(task_id, out, seed))
        except Exception as err:  # report it and carry on with the other tasks
            failures[task_id] = f"{type(err).__name__}: {err}"
    return paths, failures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=GALLERY, help=f"folder for the PNGs (default: {GALLERY})")
    parser.add_argument("--seed", type=int, default=0, help="random seed of each task's trial (default 0)")
    args = parser.parse_args()
    paths, failures = draw_gallery(args.out, args.seed)
    for path in paths:
        print(path)
    for task_id, error in failures.items():
        print(f"{task_id}: failed: {error}", file=sys.stderr)
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
