"""``neurotasks analyze RUN [--out DIR] [--trials N] [--seed S] [--only NAMES]``: a report of a trained run.

Runs the analyses that fit the run's task (the paper's figure for it, Kao 2021's tests for reaching,
fixed points for FlipFlop...), or those named by ``--only`` (comma-separated, any run), and writes a
report folder: ``index.md`` (figures, captions, key numbers, what was skipped and why), ``report.json``
(every number; schema in :mod:`agents.report.schema`) and ``figures/*.png``, each labelled with the
paper figure it corresponds to. Networks of every model of the zoo are analysed (analyses that need a
rate network's weights are skipped for gru/lstm, saying so); RL agents get the behavioural analyses.

The default folder is ``RUN/report``; writing inside the run folder takes its lock, as training does.
Exit codes: 0 done (some analyses may be skipped, each with its reason), 1 an analysis failed (the
others are still written), the run folder is in use or a write failed, 2 bad arguments, a run that
cannot be loaded, or a task with no analysis by default.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path


def add_parser(sub, name: str, help_text: str) -> None:
    from agents.report.registry import names

    p = sub.add_parser(name, help=help_text, description=help_text + ". Each figure is labelled with the paper "
                       "figure it corresponds to; every number goes to report.json.",
                       epilog="analyses (--only): " + ", ".join(names()))
    p.add_argument("run_dir", metavar="RUN", help="a run folder written by `neurotasks train`")
    p.add_argument("--out", default=None, metavar="DIR", help="report folder (default RUN/report)")
    p.add_argument("--trials", type=int, default=1000, metavar="N",
                   help="about this many trials per analysis (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="seed of the trials and the network noise (default 0)")
    p.add_argument("--only", default=None, metavar="NAMES",
                   help="comma-separated analyses to run instead of the task's defaults (listed below)")
    p.add_argument("--quiet", action="store_true", help="no line per analysis")


def _fail(message: str, code: int = 2) -> int:
    print(f"neurotasks analyze: error: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    from agents.atomic import SymlinkRefusedError
    from agents.report.registry import select
    from agents.report.subject import BadRun, load_subject
    from agents.report.writer import write_report
    from agents.run_lock import RunLockedError

    if args.trials < 10:
        return _fail(f"--trials must be >= 10, got {args.trials}")
    if args.seed < 0:
        return _fail(f"--seed must be >= 0, got {args.seed}")
    only = [name.strip() for name in args.only.split(",") if name.strip()] if args.only else None
    if args.only is not None and not only:
        return _fail("--only needs at least one analysis name")
    try:
        subject = load_subject(args.run_dir, seed=args.seed, n_trials=args.trials)
        analyses = select(subject.task, only)
    except (BadRun, ValueError) as err:
        return _fail(str(err))
    if not analyses:
        from agents.report.registry import names

        return _fail(f"no analysis applies to {subject.task.id} by default; choose some with --only "
                     f"(e.g. --only input_noise,lesions,fixed_points; all: {', '.join(names())})")
    root = Path(os.path.abspath(args.run_dir))
    out = Path(os.path.abspath(args.out)) if args.out else root / "report"
    inside = out == root or root in out.parents
    try:
        lock = None
        if inside:
            from agents.runs import open_for_writing, subfolder

            lock = open_for_writing(root)
            for part in out.relative_to(root).parts:
                root = subfolder(root, part)
        try:
            started = time.perf_counter()
            progress = None if args.quiet else (lambda line: print(f"  {line}", flush=True))
            if not args.quiet:
                print(f"{subject.task.id} ({subject.model_name}) -> {out}")
            data = write_report(subject, analyses, out, only=only, progress=progress)
        finally:
            if lock is not None:
                lock.release()
    except (RunLockedError, SymlinkRefusedError, OSError) as err:
        return _fail(str(err), 1)
    failed = [s["name"] for s in data["sections"] if s["status"] == "failed"]
    if not args.quiet:
        done = sum(s["status"] == "done" for s in data["sections"])
        print(f"{done} of {len(data['sections'])} analyses done in {time.perf_counter() - started:.1f} s: "
              f"{out / 'index.md'}")
    if failed:
        return _fail(f"analyses failed: {', '.join(failed)} (see {out / 'report.json'})", 1)
    return 0
