"""The ``neurotasks`` command line: list, plot-task, train, evaluate, analyze, speed.

Each sub-command lives in ``agents/commands/<name>.py`` and exposes ``add_parser(subparsers)``
and ``run(args) -> int``. Modules are imported only when their command runs, so
``neurotasks list`` never imports torch.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from agents.extras import missing_extra

#: command name -> (module, one-line help)
COMMANDS: dict[str, tuple[str, str]] = {
    "list": ("agents.commands.list_tasks", "list every task with a one-line description and its tags"),
    "plot-task": ("agents.commands.plot_task", "draw one trial of a task (inputs, targets, mask, periods) to PNG"),
    "train": ("agents.commands.train", "train a model-zoo network or an RL agent on a task; writes a run folder"),
    "evaluate": ("agents.commands.evaluate", "run a trained network on fresh trials; one CSV row per trial"),
    "analyze": ("agents.commands.analyze", "a report of a trained run: the paper's figures and every number "
                                           "(Markdown, PNG, JSON)"),
    "benchmark": ("agents.commands.benchmark", "train models on tasks over seeds in parallel (Ray); one table"),
    "convert": ("agents.commands.convert", "convert a run folder's old pickle checkpoint.pt to checkpoint.safetensors"),
    "speed": ("agents.commands.speed", "time the library: trial generation, environment steps, import "
                                       "(NeuroGym side by side)"),
}


def build_parser(argv: Sequence[str]) -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="neurotasks", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    wanted = next((a for a in argv if not a.startswith("-")), None)
    for name, (module, help_text) in COMMANDS.items():
        if name == wanted:
            importlib.import_module(module).add_parser(sub, name, help_text)
        else:
            sub.add_parser(name, help=help_text, add_help=False)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        parser = build_parser(argv)
    except ModuleNotFoundError as err:   # a command module that needs an extra at import time
        message = missing_extra(err)
        if message is None:
            raise
        print(f"neurotasks: error: {message}", file=sys.stderr)
        return 2
    args, extra = parser.parse_known_args(argv)
    module = importlib.import_module(COMMANDS[args.command][0])
    if extra and not getattr(module, "ACCEPTS_EXTRA", False):
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.extra = extra
    try:
        return int(module.run(args) or 0)
    except ModuleNotFoundError as err:   # a light install (no `agents` extra) running a command that needs it
        message = missing_extra(err)
        if message is None:
            raise
        print(f"neurotasks {args.command}: error: {message}", file=sys.stderr)
        return 2
    except BrokenPipeError:             # e.g. `neurotasks list | head`: the reader left; not an error
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    raise SystemExit(main())
