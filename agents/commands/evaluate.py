"""``neurotasks evaluate RUN_DIR [key=value ...] --trials N``: a trained network or RL agent on fresh trials.

Any run folder of ``neurotasks train`` works: a network of the model zoo (eirnn, rnn, lowrank, gru,
lstm) is simulated and its outputs decoded by ``task.evaluate(outputs=...)``; an RL agent
(``--agent``) plays every trial with deterministic actions, replayed through the environment's own
rule by ``task.evaluate(actions=...)``, as its training validated it.

Writes one CSV row per trial: every trial parameter (``ground_truth``, ``catch``, ``coherence``...),
then the behaviour (``choice``, ``correct``, ``rt``, plus ``rmse`` etc. when the task has them).
Prints the task's score and, for decision tasks, the fitted psychometric function (bias, threshold,
lapse), written as ``psychometric.png`` next to the CSV; for reaction-time tasks also the
chronometric function (``chronometric.png``).

Any task argument can be overridden for the test, e.g. ``stimulus_duration=1500`` or
``coherences=[0,3.2,6.4,12.8,25.6,51.2]`` (values are Python literals; bare words are strings).

Writing inside the run folder (the default ``RUN_DIR/evaluation/``) takes the run's lock, as
training does, and refuses a symbolic link on the way (``evaluation/`` or a file). A network
whose weights are not all finite is refused. Exit codes: 0 done, 2 bad arguments or run folder,
1 the folder is in use by another process or a write failed (disk full...).
"""

from __future__ import annotations

import argparse
import csv
import io
import os
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from agents.atomic import SymlinkRefusedError, refuse_symlink, write_text_atomic
from agents.commands.assignments import parse_assignments

#: key=value task arguments arrive through ``args.extra`` (see agents/cli.py).
ACCEPTS_EXTRA = True


class UsageError(Exception):
    """A problem with the command line or the run folder: reported in one line, exit code 2."""


def add_parser(sub, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=f"{help_text}. Prints the score and, for decision tasks, "
                       "the fitted psychometric (and chronometric) function, drawn next to the CSV.",
                       epilog="Task arguments: key=value after RUN_DIR, e.g. stimulus_duration=1500 "
                              "'coherences=[0,3.2,6.4,12.8,25.6,51.2]'.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by `neurotasks train`")
    p.add_argument("--trials", type=int, default=1000, metavar="N", help="number of fresh trials (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the trials and of the network noise (default 0)")
    p.add_argument("--out", default=None, metavar="CSV",
                   help="where to write the per-trial table (default RUN_DIR/evaluation/trials.csv)")
    p.add_argument("--no-noise", action="store_true",
                   help="run the network (or an ei-reinforce policy) without its recurrent noise (the task's "
                        "input noise stays; override it with input_noise=0)")


def parse_overrides(extra: Sequence[str]) -> dict[str, Any]:
    """``["key=value", ...]`` -> {key: literal value}; bare words stay strings."""
    try:
        return parse_assignments(extra)
    except ValueError as error:
        raise UsageError(str(error)) from None


def run(args: argparse.Namespace) -> int:
    from agents.run_lock import RunLockedError

    try:
        return _run(args)
    except (UsageError, SymlinkRefusedError) as error:
        print(f"neurotasks evaluate: error: {error}", file=sys.stderr)
        return 2
    except (RunLockedError, OSError) as error:  # another writer; disk full, read-only folder...: no traceback
        print(f"neurotasks evaluate: error: {error}", file=sys.stderr)
        return 1


def output_path(out: str | None, run_dir: str | os.PathLike) -> tuple[Path, bool]:
    """Where the CSV goes, and whether that is inside the run folder (then no folder on the way may be a
    symbolic link: the run folder may come from someone else)."""
    from agents.runs import EVALUATION

    root = Path(os.path.abspath(run_dir))
    path = Path(os.path.abspath(out)) if out else root / EVALUATION / "trials.csv"
    try:
        inside = path.relative_to(root)
    except ValueError:
        return path, False
    folder = root
    for part in inside.parts[:-1]:
        folder = refuse_symlink(folder / part)
    return path, True


def _load(run_dir: str) -> tuple[Any, Any, str]:
    """(the run folder, its network, SB3 model or ei-reinforce policy network, which of "network", "agent"
    (SB3) or "reinforce" it is)."""
    path = Path(run_dir)
    if not path.is_dir():
        raise UsageError(f"run folder {run_dir!r} does not exist")
    from agents.runs import RunDir, is_agent_run

    try:
        run = RunDir(path)
        config = run.config
        from agents.rl.reinforce_runs import is_reinforce_run

        if is_agent_run(config):
            from agents.rl.sb3_runs import load_agent

            model, kind = load_agent(path), "agent"
        elif is_reinforce_run(config):
            from agents.rl.reinforce_runs import load_policy

            model, kind = load_policy(path)[0], "reinforce"
        else:
            model, kind = run.model(), "network"
    except ModuleNotFoundError:
        raise                           # a missing extra (e.g. stable-baselines3): the CLI names it
    except Exception as error:  # a corrupt folder can fail in many ways; all are reported the same
        raise UsageError(f"cannot load run folder {run_dir!r}: {type(error).__name__}: {error}") from None
    if not isinstance(config, Mapping) or "task" not in config or "id" not in config["task"]:
        raise UsageError(f"run folder {run_dir!r} has no task in its config.json")
    return run, model, kind


def _channels(model: Any, kind: str) -> tuple[int, int | None]:
    """The inputs the network or policy takes, and the outputs a network gives (None for an agent, which acts)."""
    if kind == "agent":
        return int(model.observation_space.shape[0]), None
    return int(model.n_in), None if kind == "reinforce" else int(model.n_out)


def _run(args: argparse.Namespace) -> int:
    from agents.runs import make_run_task

    overrides = parse_overrides(getattr(args, "extra", []) or [])
    if args.trials < 1:
        raise UsageError(f"--trials must be >= 1, got {args.trials}")
    run, model, kind = _load(args.run_dir)
    agent = kind != "network"
    task_id = run.config["task"]["id"]
    kwargs = {**dict(run.config["task"].get("kwargs") or {}), **overrides}
    try:
        task = make_run_task(task_id, kwargs)                 # a task id, or a named mixture (yang19)
    except (TypeError, ValueError) as error:
        raise UsageError(f"bad task arguments for {task_id}: {error}") from None
    n_in, n_out = len(task.input_names), len(task.output_names)
    model_in, model_out = _channels(model, kind)
    if agent and model_in != n_in:
        raise UsageError(f"the agent observes {model_in} inputs but {task_id} with these arguments has {n_in}")
    if not agent and (model_in != n_in or model_out != n_out):
        raise UsageError(f"the network has {model_in} inputs and {model_out} outputs but {task_id} with these "
                         f"arguments has {n_in} and {n_out}")

    from agents.runs import open_for_writing
    from agents.simulation import simulate_outputs

    out, inside = output_path(args.out, args.run_dir)
    lock = open_for_writing(args.run_dir) if inside else None
    try:
        batch = task.trials(args.trials, np.random.default_rng(args.seed))
        if kind == "reinforce":         # as it validates: a softmax's draws or a Gaussian's mean, with its noise
            from agents.benchmark.zoo import evaluate_policy

            evaluation = evaluate_policy(run.path, task, batch, args.seed, noise=not args.no_noise)
            how = "the policy's actions " + ("without its recurrent noise" if args.no_noise else "with its noise")
        elif agent:                     # deterministic actions through the environment's rule, as in training
            from agents.rl.acting import policy_actions

            evaluation = task.evaluate(batch, actions=policy_actions(model, batch))
            how = "deterministic actions"
        else:
            outputs = simulate_outputs(model, batch, noise=not args.no_noise, seed=args.seed)
            evaluation = task.evaluate(batch, outputs=outputs)
            how = "no noise" if args.no_noise else "with noise"
        write_trials_csv(out, batch.params, evaluation)
        shown = Path(args.out) if args.out else Path(args.run_dir) / out.parent.name / out.name

        print(f"{task_id} {task!r}" if overrides else task_id)
        print(f"{args.trials} trials ({how}, seed {args.seed}) -> {shown}")
        for line in score_lines(task, batch, evaluation):
            print(line)
        for line in behaviour_report(task, batch, evaluation, out.parent):
            print(line)
    finally:
        if lock is not None:
            lock.release()
    return 0


def score_lines(task: Any, batch: Any, evaluation: Mapping[str, np.ndarray]) -> list[str]:
    """``task.score``, one line per score; a percent correct that is the share of a set of trials (the
    whole batch, or one task's trials in a mixture) also gets its number of trials and 95 % interval
    (Wilson's): whether a criterion is met is a question of chance near its threshold."""
    from neurotasks.mixture import TASK_PARAM

    correct = np.asarray(evaluation.get("correct", np.full(len(batch), np.nan)), dtype=float)
    ids = list(getattr(task, "ids", ()))
    lines = []
    for name, value in task.score(batch, evaluation).items():
        line = f"  {name}: {value:.4g}"
        prefix, _, metric = name.rpartition("/")
        if metric == "percent_correct" and (prefix in ids or not prefix):
            rows = correct if not prefix else correct[np.asarray(evaluation[TASK_PARAM]) == ids.index(prefix)]
            rows = rows[~np.isnan(rows)]
            # only where the score is that share: a task may leave trials out (catch trials, say)
            if rows.size and abs(100.0 * rows.mean() - value) < 1e-6:
                line += f"  (n {rows.size}, 95% CI {_wilson(int(rows.sum()), rows.size)})"
        lines.append(line)
    return lines


def _wilson(successes: int, n: int) -> str:
    from scipy.stats import binomtest

    interval = binomtest(successes, n).proportion_ci(confidence_level=0.95, method="wilson")
    return f"{100 * interval.low:.1f}-{100 * interval.high:.1f}"


def behaviour_report(task: Any, batch: Any, evaluation: Mapping[str, np.ndarray], folder: Path) -> list[str]:
    """Fit and draw the psychometric (and chronometric) functions where the task has them."""
    from agents.plots.behaviour import chronometric_figure, psychometric_figure, psychometric_panels
    from agents.plots.save import save_figure

    lines: list[str] = []
    choices = np.asarray(evaluation["choice"])
    if getattr(task, "action_names", None) is None or not np.any(choices >= 0):
        return lines
    panels = psychometric_panels(batch.params)
    if panels:
        fig, fits = psychometric_figure(batch, evaluation, panels, title=task.id)
        path = save_figure(fig, folder / "psychometric.png")
        lines.append("psychometric function, P = λ/2 + (1 − λ) Φ((x − μ)/σ):")
        for name, fit in fits:
            lines.append(f"  {name}: {fit}" if fit is not None else f"  {name}: could not be fitted")
        lines.append(f"  -> {path}")
    if "reaction time" in getattr(task, "tags", ()) and "coherence" in batch.params:
        from agents.analysis.psychometric import chronometric_table

        table = chronometric_table(batch, evaluation, "coherence")
        lines.append("chronometric function (correct trials): coherence -> mean RT ms (n)")
        for x, rt, n in zip(table.x, table.mean_rt, table.n, strict=True):
            lines.append(f"  {x:g}% -> {rt:.0f} ms ({n})")
        path = save_figure(chronometric_figure(batch, evaluation, "coherence", title=task.id),
                           folder / "chronometric.png")
        lines.append(f"  -> {path}")
    return lines


def _cell(value: Any) -> str:
    if isinstance(value, (bool, np.bool_)):
        return str(int(value))
    if isinstance(value, (float, np.floating)):
        return "" if not np.isfinite(value) else repr(float(value))
    if isinstance(value, np.integer):
        return str(int(value))
    return str(value)


def write_trials_csv(path: str | os.PathLike, params: Mapping[str, np.ndarray],
                     evaluation: Mapping[str, np.ndarray]) -> Path:
    """One row per trial: the params, then ``choice``, ``correct``, ``rt`` and the other evaluation
    fields; NaN as an empty cell, booleans as 0/1. Written atomically."""
    path = Path(path)
    first = [k for k in ("choice", "correct", "rt") if k in evaluation]
    columns = {**{k: np.asarray(v) for k, v in params.items()},
               **{k: np.asarray(evaluation[k]) for k in first},
               **{k: np.asarray(v) for k, v in evaluation.items() if k not in first and k not in params}}
    columns = {k: v for k, v in columns.items() if v.ndim == 1}
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    n = len(next(iter(columns.values()))) if columns else 0
    lists = [v.tolist() for v in columns.values()]
    for i in range(n):
        writer.writerow([_cell(column[i]) for column in lists])
    write_text_atomic(path, buffer.getvalue())
    return path
