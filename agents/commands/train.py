"""``neurotasks train ID [key=value ...]``: train a network of the model zoo, or an RL agent, into a run folder.

    neurotasks train PerceptualDecision-v0                       # paper's E/I network, fast preset, to criterion
    neurotasks train PerceptualDecision-v0 coherences=[6.4,51.2] --preset pycog --max-minutes 20
    neurotasks train PerceptualDecision-v0 --out runs/rdm        # the same command again resumes
    neurotasks train ContextDecision-v0 --model lowrank --model-arg rank=2 --model-arg dale=true
    neurotasks train PerceptualDecision-v0 --agent recurrent-ppo --hyperparam learning_rate=3e-4
    neurotasks train PerceptualDecision-v0 --agent ei-reinforce  # the E/I network from reward alone

``key=value`` pairs are task arguments; values are read as JSON (numbers, lists, true/false,
strings in quotes) or, failing that, as plain strings. ``--model NAME`` picks the network (eirnn,
the default, rnn, lowrank, gru, lstm: ``--help`` lists each with its arguments and defaults) and
``--model-arg key=value`` (repeatable) sets its arguments over what the task suggests. The size N is
``--n-units N`` or ``--model-arg n_units=N``, not both (an error). ``--agent ppo|recurrent-ppo``
trains a stable-baselines3 agent instead (:func:`agents.rl.sb3_runs.train_agent`, the shipped RL-Zoo
hyperparameters, ``--hyperparam key=value`` over them); it excludes ``--model``, ``--model-arg``,
``--n-units``, ``--preset`` and ``--tensorboard``.

Exit codes: 0 done, 2 bad arguments or an unreadable run folder, 1 the folder is in use by another
process, a write failed (disk full...: the folder keeps its last complete checkpoint) or training
diverged, 130 Ctrl-C.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import textwrap

from agents.commands.assignments import parse_assignments

ACCEPTS_EXTRA = True
#: the epilog's placeholder for the models' list, written only when the help is shown (it imports torch)
_MODELS_HELP = "\x00models\x00"
#: the reward-trained E/I network (agents.rl.reinforce_runs.AGENT; named here so parsing imports no torch)
REINFORCE_AGENT = "ei-reinforce"


def models_help() -> str:
    """Every model of the zoo with its summary, its arguments and their defaults (from its docstring)."""
    from agents.models import registry

    lines = ["models (--model NAME, default eirnn; --model-arg KEY=VALUE, repeatable, over the task's suggested "
             "network, which sets n_units and, where the model takes them, tau, sigma_rec, excitatory_fraction and "
             "eirnn's masks; n_in, n_out and seed come from the task and --seed):"]
    for name in registry.names():
        doc = registry.describe(name)
        summary, _, rest = doc.partition("\n")
        defaults = [f"{key}={_shown(value)}" for key, value in registry.arguments(name).items()
                    if key not in registry.RESERVED]
        lines.append("")
        lines.append(f"  {name}: {summary.strip()}")
        lines.extend(textwrap.wrap("defaults: " + " ".join(defaults), width=100, initial_indent="    ",
                                   subsequent_indent="      "))
        lines.extend("    " + line if line.strip() else "" for line in textwrap.dedent(rest).strip("\n").splitlines())
    return "\n".join(lines)


def _shown(value) -> str:
    if value is inspect.Parameter.empty:
        return "(required)"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


class _HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """Writes the models' list where the epilog holds its placeholder, so parsing a command imports no model."""

    def add_text(self, text):
        if text is not None and _MODELS_HELP in text:
            try:
                listed = models_help()
            except ModuleNotFoundError as err:            # a light install: the models need torch
                listed = f"models: not available ({err})"
            text = text.replace(_MODELS_HELP, listed)
        super().add_text(text)


def add_parser(sub, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, formatter_class=_HelpFormatter,
                       description=help_text + ". Without options: the paper's E/I network, to the paper's criterion.",
                       epilog="Task arguments: key=value after the task id (see `neurotasks list`).\n\n"
                              + _MODELS_HELP + "\n\nagents (--agent NAME, --hyperparam KEY=VALUE over the shipped "
                              "RL-Zoo entry of the task): ppo (stable-baselines3 PPO, MlpPolicy), recurrent-ppo "
                              "(sb3-contrib RecurrentPPO, MlpLstmPolicy); ei-reinforce (the E/I network trained "
                              "from reward by REINFORCE with a GRU baseline, Song, Yang & Wang 2017; --hyperparam over "
                              "agents.rl.reinforce_presets.DEFAULTS, policy={...} for the network's arguments).")
    p.add_argument("task_id", metavar="ID", help="task id, e.g. PerceptualDecision-v0")
    p.add_argument("--model", default=None, metavar="NAME",
                   help="the network: eirnn (default), rnn, lowrank, gru or lstm (listed below)")
    p.add_argument("--model-arg", action="append", default=[], metavar="KEY=VALUE", dest="model_args",
                   help="an argument of the model (repeatable), e.g. --model-arg rank=2; values as JSON")
    p.add_argument("--agent", default=None, metavar="NAME",
                   help="train an RL agent instead of a network: ppo, recurrent-ppo or ei-reinforce")
    p.add_argument("--hyperparam", action="append", default=[], metavar="KEY=VALUE", dest="hyperparams",
                   help="an agent's hyperparameter over the shipped RL-Zoo entry (repeatable), e.g. n_envs=8")
    p.add_argument("--out", help="run folder (default runs/<ID>-<YYYYmmdd-HHMMSS>, with the model or agent's "
                                 "name after the ID unless it is eirnn); an existing run is resumed")
    p.add_argument("--seed", type=int, default=0, help="seed of weights, trials and noise (default 0)")
    p.add_argument("--preset", default=None,
                   help="training recipe of a network: fast (default), pycog (the paper's SGD) or continuous "
                        "(pycog's no-reset protocol: one trial per update, starting where the last ended)")
    p.add_argument("--learning-rate", type=float, default=None, metavar="LR",
                   help="a network's learning rate (default: the preset's); on an existing run, it continues at "
                        "LR from its next update (a fine-tuning phase, recorded in history.csv's lr column)")
    p.add_argument("--max-minutes", type=float, default=None, help="stop after this many minutes")
    p.add_argument("--max-trials", type=int, default=None, help="stop after this many training trials in total")
    p.add_argument("--device", default="cpu", help="cpu (default) or cuda")
    p.add_argument("--n-units", type=int, default=None,
                   help="recurrent units N (default: the task's suggested network); the same as --model-arg "
                        "n_units=N, and giving both is an error")
    p.add_argument("--tensorboard", action="store_true", help="also log to <run>/tensorboard (needs tensorboard)")
    p.add_argument("--no-figures", action="store_true", help="do not draw the run's figures at the end")
    p.add_argument("--quiet", action="store_true", help="no progress bar and no line per validation")


def _fail(message: str, code: int = 2) -> int:
    print(f"neurotasks train: error: {message}", file=sys.stderr)
    return code


class _Usage(ValueError):
    """A command line that cannot run: one line, exit code 2."""


def _agent_options(args: argparse.Namespace) -> dict:
    """train_agent's keyword arguments for ``--agent``; _Usage for options that belong to networks."""
    given = [flag for flag, value in (("--model", args.model is not None), ("--model-arg", bool(args.model_args)),
                                      ("--n-units", args.n_units is not None), ("--preset", args.preset is not None),
                                      ("--tensorboard", args.tensorboard),
                                      ("--learning-rate", args.learning_rate is not None)) if value]
    if given:
        flag = given[0]
        why = {"--model": "--model and --agent are exclusive (a network trained on targets, or an agent trained on "
                          "rewards)",
               "--model-arg": "--model-arg sets a network's arguments; an agent's are --hyperparam key=value",
               "--n-units": "an agent's policy size is a hyperparameter (--hyperparam policy_kwargs=...)",
               "--preset": "--preset is a recipe for networks; an agent trains with its shipped RL-Zoo "
                           "hyperparameters (--hyperparam key=value over them)",
               "--tensorboard": "--tensorboard logs networks' training only",
               "--learning-rate": "an agent's learning rate is a hyperparameter (--hyperparam learning_rate=...)"}[flag]
        raise _Usage(f"{flag} with --agent {args.agent}: {why}")
    hyperparams = parse_assignments(args.hyperparams, what="hyperparameters")
    if args.agent == REINFORCE_AGENT:                               # checked by agents.rl.reinforce_presets
        return {"agent": args.agent, "hyperparams": hyperparams}
    from agents.rl import zoo

    zoo.agent_spec(args.agent)                                      # ValueError naming the known agents
    return {"agent": args.agent, "hyperparams": hyperparams}


def _model_options(args: argparse.Namespace) -> dict:
    """train's keyword arguments for a network; _Usage naming a bad model, argument or option."""
    if args.hyperparams:
        raise _Usage("--hyperparam sets an agent's hyperparameters (with --agent); a network's arguments are "
                     "--model-arg key=value")
    from agents.models import registry
    from agents.training.presets import PRESETS

    name = args.model or registry.DEFAULT_MODEL
    registry.model_class(name)                                      # ValueError naming the known models
    model_args = registry.parse_model_args(name, args.model_args)
    if args.n_units is not None and "n_units" in model_args:
        raise _Usage("--n-units and --model-arg n_units= both give the number of units: give one")
    preset = args.preset or "fast"
    if preset not in PRESETS:
        raise _Usage(f"unknown preset {preset!r}; known presets: {', '.join(sorted(PRESETS))}")
    options = {"model": name, "model_args": model_args, "preset": preset, "n_units": args.n_units,
               "tensorboard": args.tensorboard}
    if args.learning_rate is not None:
        if not args.learning_rate > 0:
            raise _Usage(f"--learning-rate must be > 0, got {args.learning_rate:g}")
        options["settings"] = {"learning_rate": args.learning_rate}
    return options


def run(args: argparse.Namespace) -> int:
    from agents.runs import make_run_task

    try:
        task_kwargs = parse_assignments(getattr(args, "extra", []) or [])
        task = make_run_task(args.task_id, task_kwargs)                 # a task id, or a mixture: yang19
    except (ValueError, TypeError) as err:
        return _fail(str(err))
    try:
        options = _agent_options(args) if args.agent is not None else _model_options(args)
    except ValueError as err:
        return _fail(str(err))
    if args.device.startswith("cuda"):
        import torch

        if not torch.cuda.is_available():
            return _fail(f"--device {args.device}: CUDA is not available on this machine")
    from agents.run_lock import RunLockedError
    from agents.training.trainer import TrainingDiverged

    common = {"out": args.out, "seed": args.seed, "max_minutes": args.max_minutes, "max_trials": args.max_trials,
              "device": args.device, "quiet": args.quiet, "figures": not args.no_figures}
    try:
        if args.agent == REINFORCE_AGENT:
            from agents.rl.reinforce_runs import train_reinforce

            run_dir = train_reinforce(task, hyperparams=options["hyperparams"], **common)
        elif args.agent is not None:
            from agents.rl.sb3_runs import train_agent

            run_dir = train_agent(task, options.pop("agent"), **options, **common)
        else:
            from agents.training.trainer import train

            run_dir = train(task, **options, **common)
    except KeyboardInterrupt:
        print("\ninterrupted; run the same command again to resume from the last checkpoint", file=sys.stderr)
        return 130
    except ValueError as err:
        return _fail(str(err))
    except RunLockedError as err:
        return _fail(str(err), 1)
    except TrainingDiverged as err:
        return _fail(f"{err}; the run folder keeps its last complete checkpoint", 1)
    except OSError as err:              # disk full, I/O error, read-only or forbidden folder: no traceback
        return _fail(f"{err}; the run folder keeps its last complete checkpoint: fix this and run the same "
                     "command again to resume", 1)
    metrics = run_dir.metrics
    final = metrics.get("final") or {}
    perf = ", ".join(f"{k} {v:.4g}" for k, v in final.items() if isinstance(v, (int, float)))
    if metrics.get("criterion_met"):
        steps = (f", {metrics['timesteps_to_criterion']} timesteps"
                 if metrics.get("timesteps_to_criterion") is not None else "")
        status = (f"criterion ({metrics['criterion']}) met after {metrics['trials_to_criterion']} trials, "
                  f"{metrics['updates_to_criterion']} updates{steps}, {metrics['wall_s_to_criterion']:.1f} s")
    else:
        status = f"criterion ({metrics['criterion']}) not met; stopped at {metrics.get('stopped')}"
    print(f"run folder: {run_dir.path}")
    print(status)
    print(f"final validation: {perf}")
    if metrics.get("final_validation_note"):
        print(f"warning: {metrics['final_validation_note']}")
    return 0
