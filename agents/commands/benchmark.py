"""``neurotasks benchmark``: train models on tasks over seeds, in parallel on Ray, and tabulate them.

    neurotasks benchmark --preset quick                         # a first table in a few minutes on 2 cores
    neurotasks benchmark --tasks PerceptualDecision-v0,ContextDecision-v0 --models eirnn --seeds 3 \\
        --max-minutes 5 --out runs/bench
    neurotasks benchmark ... --address HEAD_HOST:6379           # on a Ray cluster (--out on a shared disk)

Every cell (task × model × seed) is its own run folder, OUT/runs/<task>_<model>_seed<seed>. The same
command again skips the finished cells and resumes the interrupted ones; with other settings on the
same --out it is refused (the settings are kept in OUT/benchmark.json), and so is a second command on
a folder another one is working on (OUT/run.lock). Writes OUT/results.csv (one row per cell),
OUT/results.md (median and range over seeds per task × model) and OUT/figures/.
Exit status: 0; 1 if a cell failed (the others still run; the next run tries the failed ones again)
or Ray could not start; 2 for bad arguments; 130 when interrupted.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import itertools
import json
import os
import shlex
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agents.atomic import write_json_atomic
from agents.benchmark import zoo
from agents.benchmark.cells import Budget, Cell, is_finished
from agents.benchmark.presets import PRESETS

CONFIG = "benchmark.json"
#: per-run budget when neither --max-minutes nor --max-trials (nor a preset) gives one
DEFAULT_MAX_MINUTES = 10.0


class UsageError(Exception):
    """Bad arguments or a folder holding another benchmark: one line, exit status 2, before Ray starts."""


def add_parser(sub, name: str, help_text: str) -> None:
    models = "\n".join(f"  {e.name:<14} {e.summary}" + ("" if e.available else f" [not yet: needs {e.pending}]")
                       for e in zoo.ENTRANTS.values())
    presets = "\n".join(f"  {k:<14} {p.summary}" for k, p in PRESETS.items())
    p = sub.add_parser(name, help=help_text, formatter_class=argparse.RawDescriptionHelpFormatter,
                       description=__doc__.replace("``", ""), epilog=f"models:\n{models}\n\npresets:\n{presets}")
    p.add_argument("--preset", choices=sorted(PRESETS), help="a named benchmark; options given beside it win")
    p.add_argument("--tasks", nargs="+", metavar="ID", help="task ids, space- or comma-separated")
    p.add_argument("--models", nargs="+", metavar="NAME",
                   help="models or agents, space- or comma-separated (default: every available one)")
    p.add_argument("--seeds", metavar="N|LIST", help="a count (3: seeds 0, 1, 2) or a list (0,4,7; one seed: 5,); "
                                                     "default 1")
    p.add_argument("--max-minutes", type=float, default=None, metavar="M",
                   help=f"per run: stop training after M minutes (default {DEFAULT_MAX_MINUTES:g} when no budget "
                        "is given)")
    p.add_argument("--max-trials", type=int, default=None, metavar="N", help="per run: stop after N training trials")
    p.add_argument("--training-preset", default="fast", help="the supervised trainer's recipe: fast (default) or pycog")
    p.add_argument("--fit-trials", type=int, default=1000, metavar="N",
                   help="fresh trials for each run's psychometric fit (default 1000)")
    p.add_argument("--out", default=None, metavar="DIR",
                   help="benchmark folder (default runs/benchmark-<preset>, or runs/benchmark); the same command "
                        "on it again resumes")
    p.add_argument("--address", default=None,
                   help="a running Ray cluster, host:port (default: a local Ray started and stopped by the command); "
                        "with Ray's token authentication on, set RAY_AUTH_MODE=token as for any Ray client")
    p.add_argument("--cpus-per-cell", type=int, default=1, metavar="C",
                   help="CPUs each cell asks Ray for, and its torch threads (default 1)")
    p.add_argument("--run-figures", action="store_true", help="also draw each run's own figures (slower)")
    p.add_argument("--no-figures", action="store_true", help="do not draw the benchmark's figures")


# ---------------------------------------------------------------------- settings
@dataclass(frozen=True)
class Settings:
    """What a benchmark computes (kept in benchmark.json; a folder holds one benchmark)."""

    tasks: tuple[str, ...]
    models: tuple[str, ...]
    seeds: tuple[int, ...]
    budget: Budget

    def to_dict(self) -> dict[str, Any]:
        return {"tasks": list(self.tasks), "models": list(self.models), "seeds": list(self.seeds),
                "max_minutes": self.budget.max_minutes, "max_trials": self.budget.max_trials,
                "training_preset": self.budget.preset, "fit_trials": self.budget.fit_trials}

    def cells(self) -> list[Cell]:
        return [Cell(t, m, s) for t, m, s in itertools.product(self.tasks, self.models, self.seeds)]

    def command(self, out: str) -> str:
        """The command line that makes this benchmark (what results.md shows)."""
        argv = ["neurotasks", "benchmark", "--tasks", ",".join(self.tasks), "--models", ",".join(self.models),
                "--seeds", _seeds_text(self.seeds)]
        if self.budget.max_minutes is not None:
            argv += ["--max-minutes", f"{self.budget.max_minutes:g}"]
        if self.budget.max_trials is not None:
            argv += ["--max-trials", str(self.budget.max_trials)]
        if self.budget.preset != "fast":
            argv += ["--training-preset", self.budget.preset]
        if self.budget.fit_trials != Budget.fit_trials:
            argv += ["--fit-trials", str(self.budget.fit_trials)]
        return shlex.join([*argv, "--out", out])

    def describe(self) -> str:
        caps = []
        if self.budget.max_minutes is not None:
            caps.append(f"{self.budget.max_minutes:g} min")
        if self.budget.max_trials is not None:
            caps.append(f"{self.budget.max_trials:,} training trials")
        return (f"{_n(len(self.tasks), 'task')} × {_n(len(self.models), 'model')} × {_n(len(self.seeds), 'seed')}; "
                f"per run at most {' and '.join(caps)}; training preset {self.budget.preset}")


def _n(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def _seeds_text(seeds: tuple[int, ...]) -> str:
    if seeds == tuple(range(len(seeds))):
        return str(len(seeds))
    return ",".join(map(str, seeds)) + ("," if len(seeds) == 1 else "")


def _names(values: list[str] | None) -> list[str]:
    """``["a,b", "c"]`` -> ``["a", "b", "c"]``, duplicates dropped, order kept."""
    names = [part.strip() for value in values or [] for part in value.split(",")]
    return list(dict.fromkeys(n for n in names if n))


def parse_seeds(text: str) -> tuple[int, ...]:
    """``"3"`` -> (0, 1, 2); ``"0,4,7"`` -> (0, 4, 7); ``"5,"`` -> (5,)."""
    hint = "a count >= 1 or a comma-separated list of seeds >= 0 (e.g. 3, or 0,4,7; one seed: 5,)"
    text = text.strip()
    try:
        if "," not in text:
            count = int(text)
            if count < 1:
                raise UsageError(f"--seeds must be {hint}, got {text!r}: a benchmark needs at least one seed")
            return tuple(range(count))
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise UsageError(f"--seeds must be {hint}, got {text!r}") from None
    if not seeds or min(seeds) < 0:
        raise UsageError(f"--seeds must be {hint}, got {text!r}")
    if len(set(seeds)) != len(seeds):
        raise UsageError(f"--seeds lists a seed twice: {text!r}")
    return tuple(seeds)


def resolve_settings(args: argparse.Namespace) -> Settings:
    """The benchmark the arguments ask for, checked: every error here comes before Ray starts."""
    from agents.training.presets import PRESETS as TRAINER_PRESETS
    from neurotasks.registry import task_class

    preset = PRESETS[args.preset] if args.preset else None
    tasks = _names(args.tasks) or list(preset.tasks if preset else [])
    if not tasks:
        raise UsageError("give --tasks (e.g. --tasks PerceptualDecision-v0,ContextDecision-v0) or --preset "
                         f"({', '.join(sorted(PRESETS))})")
    try:
        tasks = list(dict.fromkeys(task_class(task).id for task in tasks))   # "neurotasks:ID" -> "ID"
    except ValueError as err:
        raise UsageError(f"--tasks: {err}") from None
    models = _names(args.models) or list(preset.model_names() if preset else zoo.available())
    for model in models:
        try:
            zoo.resolve(model)
        except ValueError as err:
            source = "--models" if args.models else f"--preset {args.preset}"
            raise UsageError(f"{source}: {err}") from None
    if not models:
        raise UsageError(f"--models: no model is available; known: {', '.join(zoo.ENTRANTS)}")
    seeds = parse_seeds(args.seeds) if args.seeds is not None else tuple(range(preset.seeds if preset else 1))
    max_minutes, max_trials = args.max_minutes, args.max_trials
    if max_minutes is None and max_trials is None:
        max_minutes, max_trials = (preset.max_minutes, preset.max_trials) if preset else (DEFAULT_MAX_MINUTES, None)
    if max_minutes is not None and not max_minutes > 0:
        raise UsageError(f"--max-minutes must be > 0, got {max_minutes:g}")
    if max_trials is not None and max_trials < 1:
        raise UsageError(f"--max-trials must be >= 1, got {max_trials}")
    if args.training_preset not in TRAINER_PRESETS:
        raise UsageError(f"--training-preset: unknown preset {args.training_preset!r}; known: "
                         f"{', '.join(sorted(TRAINER_PRESETS))}")
    if args.fit_trials < 1:
        raise UsageError(f"--fit-trials must be >= 1, got {args.fit_trials}")
    if args.cpus_per_cell < 1:
        raise UsageError(f"--cpus-per-cell must be >= 1, got {args.cpus_per_cell}")
    if args.address is None:
        from agents.benchmark.runner import machine_cpus

        if args.cpus_per_cell > machine_cpus():
            raise UsageError(f"--cpus-per-cell {args.cpus_per_cell} is more than this machine's {machine_cpus()} "
                             "CPUs")
    needed = [m for name in models for m in zoo.ENTRANTS[name].requires]
    needed += [] if getattr(args, "no_figures", False) else ["matplotlib"]
    check_installed(needed)
    budget = Budget(max_minutes=max_minutes, max_trials=max_trials, preset=args.training_preset,
                    fit_trials=args.fit_trials)
    return Settings(tuple(tasks), tuple(models), seeds, budget)


def check_installed(modules: list[str]) -> None:
    """Every module the cells (and the figures) will import is installed here (a light install lacks the
    ``agents`` extra): said now, not by every cell."""
    import importlib.util

    from agents.extras import missing_extra

    for name in dict.fromkeys(modules):
        if importlib.util.find_spec(name) is None:
            message = missing_extra(ModuleNotFoundError(name=name)) or f"module {name!r} is not installed"
            raise UsageError(message)


def claim_folder(out: Path, settings: Settings) -> None:
    """Write OUT/benchmark.json for a new benchmark; refuse a folder holding a different one."""
    path = out / CONFIG
    mine = json.loads(json.dumps(settings.to_dict()))
    if path.is_file():
        try:
            saved = json.loads(path.read_text(encoding="utf-8"))["settings"]
        except (ValueError, KeyError, TypeError, UnicodeDecodeError):
            saved = None
        if not isinstance(saved, dict):
            raise UsageError(f"{path} is corrupt; remove it, or use another --out")
        if saved != mine:
            differ = sorted(k for k in set(saved) | set(mine) if saved.get(k) != mine.get(k))
            was = "; ".join(f"{k} {saved.get(k)!r} there, {mine.get(k)!r} now" for k in differ)
            raise UsageError(f"{out} holds a different benchmark ({was}); use another --out, or the same settings "
                             "to resume it")
        return
    write_json_atomic(path, {"command": settings.command(str(out)), "settings": mine, "versions": versions(),
                             "created": _dt.datetime.now().isoformat(timespec="seconds")})


def versions() -> dict[str, str | None]:
    """Versions of what the cells run on, read from the installed packages (the driver imports neither torch
    nor Ray to know them)."""
    import platform
    from importlib import metadata

    found: dict[str, str | None] = {"python": platform.python_version()}
    for name in ("neurotasks", "torch", "numpy", "gymnasium", "ray", "stable-baselines3"):
        try:
            found[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            found[name] = None
    return found


# ---------------------------------------------------------------------- running
def _fail(message: str) -> int:
    print(f"neurotasks benchmark: error: {message}", file=sys.stderr)
    return 2


def cell_line(row: dict[str, Any]) -> str:
    """One line for a finished cell."""
    name = f"{row['task']} {row['model']} seed {row['seed']}"
    if row["status"] == "failed":
        return f"{name}: FAILED: {row['error']}"
    if row["status"] == "reached":
        return (f"{name}: reached the criterion after {row['trials_to_criterion']:,} trials "
                f"({row['wall_s_to_criterion']:.1f} s)")
    if row["status"] == "not reached":
        value = row["final_value"]
        value_text = f"{value:.4g}" if isinstance(value, (int, float)) else "—"
        return (f"{name}: criterion not reached (stopped at {row['stopped']} after {row['trials']:,} trials; "
                f"final {row['final_metric']} {value_text})")
    return f"{name}: {row['status']}"


def run(args: argparse.Namespace) -> int:
    from agents.run_lock import RunLock, RunLockedError

    try:
        settings = resolve_settings(args)
        out = Path(args.out or (f"runs/benchmark-{args.preset}" if args.preset else "runs/benchmark"))
        if out.exists() and not out.is_dir():
            raise UsageError(f"--out {str(out)!r} is a file, not a folder")
        lock = RunLock(out).acquire()                # one command at a time on a benchmark folder
    except (UsageError, RunLockedError) as err:
        return _fail(str(err))
    with lock:
        try:
            claim_folder(out, settings)
        except UsageError as err:
            return _fail(str(err))
        return _run(args, settings, out)


def _run(args: argparse.Namespace, settings: Settings, out: Path) -> int:
    from agents.benchmark import results, runner

    cells = settings.cells()
    todo = [c for c in cells if not is_finished(c.folder(out))]
    where = f"the Ray cluster at {args.address}" if args.address else f"a local Ray ({runner.machine_cpus()} CPUs)"
    print(f"{out}: {_n(len(cells), 'cell')} ({settings.describe()})")
    if len(todo) < len(cells):
        print(f"{len(cells) - len(todo)} finished already: skipped")
    if todo:
        print(f"running {_n(len(todo), 'cell')} on {where}, {args.cpus_per_cell} CPU each")
        try:
            _run_with_progress(todo, settings, out, args)
        except KeyboardInterrupt:
            print("\ninterrupted; Ray stopped. Run the same command again to resume the unfinished cells.",
                  file=sys.stderr)
            return 130
        except runner.RayUnavailable as err:              # not installed, cannot start or join, too small
            print(f"neurotasks benchmark: error: {err}", file=sys.stderr)
            return 1
    rows = results.collect(cells, out)
    written = results.write_results(out, rows, settings.command(str(out)), settings.describe())
    if not args.no_figures:
        from agents.benchmark.figures import write_figures

        written += write_figures(out, cells, rows)
    print()
    print(results.results_markdown(rows, settings.command(str(out)), settings.describe()), end="")
    print()
    for path in written:
        print(f"wrote {path}")
    failed = [r for r in rows if r["status"] == "failed"]
    if failed:
        print(f"{_n(len(failed), 'cell')} failed (see results.csv and the cells' error.json); the same command "
              "tries them again", file=sys.stderr)
        return 1
    return 0


def _run_with_progress(todo: list[Cell], settings: Settings, out: Path, args: argparse.Namespace) -> None:
    from tqdm.auto import tqdm

    from agents.benchmark.results import cell_row
    from agents.benchmark.runner import run_cells

    # a bar on a terminal; in a log (CI, a file), only the numbered line per finished cell
    interactive = sys.stderr.isatty() and os.environ.get("CI", "").lower() not in ("1", "true", "yes")
    bar = tqdm(total=len(todo), unit="cell", desc="cells", dynamic_ncols=True, file=sys.stderr,
               disable=not interactive)
    done = 0

    def report(cell: Cell, outcome: dict[str, Any]) -> None:
        nonlocal done
        done += 1
        bar.write(f"[{done}/{len(todo)}] {cell_line(cell_row(cell, out))}", file=sys.stdout)
        sys.stdout.flush()
        bar.update(1)

    try:
        run_cells(todo, settings.budget, out, address=args.address, cpus_per_cell=args.cpus_per_cell,
                  figures=args.run_figures, report=report, tick=bar.refresh)
    finally:
        bar.close()
