"""``neurotasks train ID [key=value ...]``: train an E/I RNN on a task into a run folder.

    neurotasks train PerceptualDecision-v0                       # paper's network, fast preset, to criterion
    neurotasks train PerceptualDecision-v0 coherences=[6.4,51.2] --preset pycog --max-minutes 20
    neurotasks train PerceptualDecision-v0 --out runs/rdm        # the same command again resumes

``key=value`` pairs are task arguments; values are read as JSON (numbers, lists, true/false,
strings in quotes) or, failing that, as plain strings.

Exit codes: 0 done, 2 bad arguments or an unreadable run folder, 1 the folder is in use by another
process or a write failed (disk full...: the folder keeps its last complete checkpoint), 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import sys

from agents.commands.assignments import parse_assignments

ACCEPTS_EXTRA = True


def add_parser(sub, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text,
                       description=help_text + ". Without options: the paper's network, to the paper's criterion.",
                       epilog="Task arguments: key=value after the task id (see `neurotasks list`).")
    p.add_argument("task_id", metavar="ID", help="task id, e.g. PerceptualDecision-v0")
    p.add_argument("--out", help="run folder (default runs/<ID>-<YYYYmmdd-HHMMSS>); an existing run is resumed")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, trials and noise (default 0)")
    p.add_argument("--preset", default="fast", help="training recipe: fast (default) or pycog (the paper's SGD)")
    p.add_argument("--max-minutes", type=float, default=None, help="stop after this many minutes")
    p.add_argument("--max-trials", type=int, default=None, help="stop after this many training trials in total")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--n-units", type=int, default=None, help="recurrent units (default: the task's suggested network)")
    p.add_argument("--tensorboard", action="store_true", help="also log to <run>/tensorboard (needs tensorboard)")
    p.add_argument("--no-figures", action="store_true", help="do not draw the run's figures at the end")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no line per validation")


def _fail(message: str, code: int = 2) -> int:
    print(f"neurotasks train: error: {message}", file=sys.stderr)
    return code


def run(args: argparse.Namespace) -> int:
    import neurotasks

    try:
        task_kwargs = parse_assignments(getattr(args, "extra", []) or [])
        task = neurotasks.make_task(args.task_id, **task_kwargs)
    except (ValueError, TypeError) as err:
        return _fail(str(err))
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            return _fail(f"--device {args.device}: CUDA is not available on this machine")
    from agents.run_lock import RunLockedError
    from agents.training.presets import PRESETS
    from agents.training.trainer import train

    if args.preset not in PRESETS:
        return _fail(f"unknown preset {args.preset!r}; known presets: {', '.join(sorted(PRESETS))}")
    try:
        run_dir = train(task, preset=args.preset, out=args.out, seed=args.seed, max_minutes=args.max_minutes,
                        max_trials=args.max_trials, device=args.device, n_units=args.n_units, quiet=args.quiet,
                        tensorboard=args.tensorboard, figures=not args.no_figures)
    except KeyboardInterrupt:
        print("\ninterrupted; run the same command again to resume from the last checkpoint", file=sys.stderr)
        return 130
    except ValueError as err:
        return _fail(str(err))
    except RunLockedError as err:
        return _fail(str(err), 1)
    except OSError as err:              # disk full, I/O error, read-only or forbidden folder: no traceback
        return _fail(f"{err}; the run folder keeps its last complete checkpoint: fix this and run the same "
                     "command again to resume", 1)
    metrics = run_dir.metrics
    final = metrics.get("final") or {}
    perf = ", ".join(f"{k} {v:.4g}" for k, v in final.items() if isinstance(v, (int, float)))
    if metrics.get("criterion_met"):
        status = (f"criterion ({metrics['criterion']}) met after {metrics['trials_to_criterion']} trials, "
                  f"{metrics['updates_to_criterion']} updates, {metrics['wall_s_to_criterion']:.1f} s")
    else:
        status = f"criterion ({metrics['criterion']}) not met; stopped at {metrics.get('stopped')}"
    print(f"run folder: {run_dir.path}")
    print(status)
    print(f"final validation: {perf}")
    if metrics.get("final_validation_note"):
        print(f"warning: {metrics['final_validation_note']}")
    return 0
