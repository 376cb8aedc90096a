"""``neurotasks plot-task ID``: draw one trial of a task (inputs, targets, mask, periods) to PNG."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import neurotasks
from agents.commands.assignments import parse_assignments


def add_parser(sub, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=help_text)
    p.add_argument("task_id", metavar="ID", help="task id, e.g. PerceptualDecision-v0 (see `neurotasks list`)")
    p.add_argument("--out", type=Path, default=None, help="PNG path (default: figures/<ID>.png)")
    p.add_argument("--seed", type=int, default=0, help="random seed of the batch (default 0)")
    p.add_argument("--index", type=int, default=0, help="which trial of the batch to draw (default 0)")
    p.add_argument("--catch", action=argparse.BooleanOptionalAction, default=None,
                   help="force a catch trial (--catch) or a regular one (--no-catch); default: as the task draws")
    p.add_argument("--set", dest="task_kwargs", action="append", default=[], metavar="KEY=VALUE",
                   help="a task argument, value parsed as a Python literal (repeatable), e.g. --set dt=10 "
                        "--set 'coherences=[51.2]'")
    p.add_argument("--param", dest="trial_params", action="append", default=[], metavar="KEY=VALUE",
                   help="force a trial parameter (repeatable), e.g. --param coherence=12.8 --param ground_truth=1")


def run(args: argparse.Namespace) -> int:
    from agents.plots.task_trial import plot_trial  # matplotlib only when this command runs

    try:
        task_kwargs = parse_assignments(args.task_kwargs, "--set task arguments")
        forced = parse_assignments(args.trial_params, "--param trial parameters")
        if args.catch is not None:
            forced["catch"] = args.catch
        if args.index < 0:
            raise ValueError(f"--index must be >= 0, got {args.index}")
        task = neurotasks.make_task(args.task_id, **task_kwargs)
        batch = task.trials(args.index + 1, rng=args.seed, **forced)
        path = args.out if args.out is not None else Path("figures") / f"{task.id}.png"
        plot_trial(task, batch, index=args.index, path=path)
    except (ValueError, TypeError) as err:
        print(f"neurotasks plot-task: error: {_one_line(err)}", file=sys.stderr)
        return 2
    print(path)
    return 0


def _one_line(err: Exception) -> str:
    return " ".join(str(err).split())
