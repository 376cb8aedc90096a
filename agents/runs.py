"""Run folders: everything a training run leaves behind, and reading it back.

    runs/PerceptualDecision-v0-20260101-120000/
        config.json              task id and kwargs, model config (its registry name and arguments), trainer
                                 settings, preset, seed, versions
        model.safetensors        the trained (criterion-meeting / best) weights
        checkpoint.safetensors   for resuming: current and best weights, optimizer moments, torch generator
                                 states (tensors); counters, optimizer scalars, NumPy RNG states, history,
                                 stop reason (JSON in the file's metadata)
        history.csv              one row per validation
        metrics.json             final performance, criterion, trials/updates/seconds to criterion
        run.lock                 the pid of the process writing the folder (an flock; see agents.run_lock)
        figures/                 PNGs
        evaluation/              what `neurotasks evaluate` wrote

The network is rebuilt from config.json's "model" entry by :func:`agents.models.registry.build` (a
config without a "name" is an eirnn one, as folders written before the model zoo) and its weights loaded
from model.safetensors. A run folder of an RL agent (:mod:`agents.rl.sb3_runs`) has the same files;
:func:`load` gives its SB3 model back.

Nothing is ever unpickled: every file read back is safetensors, JSON or CSV, so a folder received
from someone else cannot run code. Every write goes to a temporary file in the same folder, fsynced,
and is moved into place with ``os.replace``, so a run killed at any moment leaves either the old or
the new file, never half of one; a process that opens the folder for writing takes its lock and
removes the temporary files a killed one left behind.
"""

from __future__ import annotations

import csv
import io
import json
import math
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from agents.atomic import refuse_symlink, remove_leftovers, write_bytes_atomic, write_json_atomic, write_text_atomic
from agents.run_lock import RunLock

CONFIG = "config.json"
WEIGHTS = "model.safetensors"
CHECKPOINT = "checkpoint.safetensors"
#: the pickle-based checkpoint of earlier versions: never loaded, only converted (`neurotasks convert`)
LEGACY_CHECKPOINT = "checkpoint.pt"
HISTORY = "history.csv"
METRICS = "metrics.json"
FIGURES = "figures"
EVALUATION = "evaluation"


def model_config_of(config: Mapping[str, Any]) -> dict[str, Any]:
    """The "model" entry of a run's config.json with its registry name (``"eirnn"`` where it has none: a folder
    written before the model zoo)."""
    from agents.models import registry

    model = config.get("model")
    if not isinstance(model, Mapping):
        raise ValueError(f"the run's {CONFIG} has no model config (its 'model' entry is {type(model).__name__})")
    return {registry.NAME_KEY: registry.DEFAULT_MODEL, **model}


def is_agent_run(config: Mapping[str, Any]) -> bool:
    """Whether a run's config.json is an RL agent's (:mod:`agents.rl.sb3_runs`: it names an ``agent`` and its
    hyperparameters), not a network of the model zoo's."""
    return isinstance(config.get("agent"), str) and isinstance(config.get("hyperparameters"), Mapping)


def open_for_writing(path: str | os.PathLike) -> RunLock:
    """Lock the run folder ``path`` (created if missing) for this process and remove the temporary files a
    killed writer left in it; release the returned lock (or use it in a ``with``) when done."""
    path = Path(path)
    lock = RunLock(path).acquire()
    try:
        remove_leftovers([path, path / FIGURES, path / EVALUATION])
    except BaseException:
        lock.release()
        raise
    return lock


def subfolder(run_path: str | os.PathLike, name: str) -> Path:
    """``run_path/name`` (created if missing), refused if it is a symbolic link: writing into a run folder
    must not write somewhere else."""
    path = refuse_symlink(Path(run_path) / name)
    path.mkdir(parents=True, exist_ok=True)
    return path


def write_history_atomic(path: str | os.PathLike, rows: Sequence[dict[str, Any]]) -> None:
    """history.csv: one row per validation; columns are the union of the rows' keys, in first-seen order."""
    columns: list[str] = []
    for row in rows:
        columns.extend(k for k in row if k not in columns)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: _csv_value(row.get(k, "")) for k in columns})
    write_text_atomic(path, buffer.getvalue())


def _csv_value(value: Any) -> Any:
    if isinstance(value, float):
        return repr(value)
    return value


def save_weights(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """A model's state dict to a safetensors file, atomically."""
    from safetensors.torch import save

    tensors = {k: v.detach().to("cpu", copy=True).contiguous() for k, v in state.items()}
    write_bytes_atomic(path, save(tensors))


def save_model(run_path: str | os.PathLike, model: Any, extra_config: dict[str, Any] | None = None) -> None:
    """Write a model of the zoo into a run folder (config.json's "model" entry, its registry name and arguments,
    and model.safetensors), e.g. to share a network trained by other means; ``extra_config`` adds entries such
    as ``{"task": {...}}``."""
    from agents.models import registry

    run_path = Path(run_path)
    config_path = run_path / CONFIG
    config = json.loads(config_path.read_text(encoding="utf-8")) if config_path.is_file() else {}
    config.update(extra_config or {})
    config["model"] = registry.config_of(model)
    write_json_atomic(config_path, config)
    save_weights(run_path / WEIGHTS, model.state_dict())


# ---------------------------------------------------------------------- reading
class RunDir:
    """A run folder. Reading is lazy; missing or corrupt files raise errors naming the file."""

    def __init__(self, path: str | os.PathLike) -> None:
        self.path = Path(path)
        if not self.path.is_dir():
            raise FileNotFoundError(f"run folder {str(self.path)!r} does not exist")

    def __repr__(self) -> str:
        return f"RunDir({str(self.path)!r})"

    def file(self, name: str) -> Path:
        """Path of a file of the run, which must exist."""
        path = self.path / name
        if not path.is_file():
            raise FileNotFoundError(f"{path} is missing: {self.path} is not a complete run folder")
        return path

    def _json(self, name: str) -> dict[str, Any]:
        path = self.file(name)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (json.JSONDecodeError, UnicodeDecodeError) as err:
            raise ValueError(f"{path} is corrupt (not valid JSON: {err})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{path} is corrupt (expected a JSON object)")
        return data

    @property
    def config(self) -> dict[str, Any]:
        """config.json as a dict."""
        data = self._json(CONFIG)
        for key in ("task", "model"):
            if key not in data:
                raise ValueError(f"{self.path / CONFIG} is corrupt (no {key!r} entry)")
        return data

    @property
    def metrics(self) -> dict[str, Any]:
        """metrics.json as a dict."""
        return self._json(METRICS)

    @property
    def figures_dir(self) -> Path:
        """Where figures go (created on demand; refused if it is a symbolic link)."""
        return subfolder(self.path, FIGURES)

    def task(self):
        """The neurotasks Task (or MixtureTask) the run trained on (same id and kwargs)."""
        task = self.config["task"]
        return make_run_task(task["id"], task.get("kwargs", {}))

    def model(self, device: str = "cpu"):
        """The trained network (any model of the zoo), in eval mode; ValueError if config.json does not describe
        one (an RL agent's folder: see :func:`load`) or its weights are not all finite."""
        from safetensors import SafetensorError
        from safetensors.torch import load_file

        from agents.models import registry

        config = self.config
        if is_agent_run(config):
            raise ValueError(f"{self.path} is an RL agent's run ({config['agent']}), not a network of the model zoo: "
                             "load it with agents.load or agents.rl.sb3_runs.load_agent")
        model_config = model_config_of(config)
        try:
            model = registry.build(model_config)
        except (TypeError, ValueError) as err:
            raise ValueError(f"{self.path / CONFIG} does not describe a model that can be built: {err}") from None
        path = self.file(WEIGHTS)
        try:
            state = load_file(str(path))
        except (SafetensorError, OSError, ValueError) as err:
            raise ValueError(f"{path} is corrupt ({err})") from None
        bad = non_finite_entries(state)
        if bad:
            raise ValueError(f"{path} holds non-finite weights (NaN or infinity) in {', '.join(bad)}: the network "
                             "diverged or the file was altered; it cannot be evaluated")
        try:
            model.load_state_dict(state)
        except RuntimeError as err:
            raise ValueError(f"{path} does not match the model in {CONFIG}: {err}") from None
        return model.to(device).eval()

    def history(self) -> list[dict[str, Any]]:
        """history.csv as a list of dicts (numbers as float or int)."""
        path = self.file(HISTORY)
        try:
            with open(path, newline="", encoding="utf-8") as f:
                rows = list(csv.DictReader(f))
        except (csv.Error, UnicodeDecodeError) as err:
            raise ValueError(f"{path} is corrupt ({err})") from None
        return [{k: _number(v) for k, v in row.items()} for row in rows]


def keeps_as_best(criterion: Any, value: float, best: Mapping[str, Any] | None) -> bool:
    """Whether a validation scoring ``value`` on ``criterion``'s metric becomes the run's best: finite and at least
    as good as ``best`` (among equal validations the latest, the longest-trained network, is kept)."""
    if not math.isfinite(value):
        return False
    if best is None:
        return True
    return value >= best["value"] if criterion.higher_is_better else value <= best["value"]


def non_finite_entries(state: Mapping[str, Any]) -> list[str]:
    """Names of the floating-point tensors of ``state`` holding a NaN or an infinity."""
    import torch

    return [name for name, value in state.items()
            if isinstance(value, torch.Tensor) and value.is_floating_point() and not bool(torch.isfinite(value).all())]


def _number(text: str | None) -> Any:
    if text is None or text == "":
        return None
    try:
        return int(text)
    except ValueError:
        pass
    try:
        return float(text)
    except ValueError:
        return text


def load(run_dir: str | os.PathLike, device: str = "cpu"):
    """The trained model of a run folder: the network (``RunDir(run_dir).model()``, any model of the zoo), or for
    an RL agent's folder its SB3 model (:func:`agents.rl.sb3_runs.load_agent`; it acts, see
    :func:`agents.rl.acting.policy_actions`, rather than being simulated)."""
    run = RunDir(run_dir)
    if is_agent_run(run.config):
        from agents.rl.sb3_runs import load_agent

        return load_agent(run.path, device)
    return run.model(device)


def metrics_are_final(out: str | os.PathLike, stopped: str | None, updates: int) -> bool:
    """Whether metrics.json, the last file a run's finish writes, was written for the checkpoint that
    stopped for ``stopped`` after ``updates`` updates (then that run is done: nothing to train or finish)."""
    try:
        metrics = RunDir(out).metrics
    except (OSError, ValueError):
        return False
    return metrics.get("stopped") == stopped and metrics.get("updates") == updates


def draw_figures(out: str | os.PathLike, write: Callable[[Path], Any]) -> bool:
    """``write(out)`` the run's figures; True if they were drawn. A write error (a full disk) is the
    command's error, as for any other save; any other failure is a warning, so that a figure that
    cannot be drawn never loses a trained run (and they are tried again on the next run)."""
    try:
        write(Path(out))
    except OSError:
        raise
    except Exception as err:
        print(f"warning: figures could not be drawn: {type(err).__name__}: {err}", file=sys.stderr)
        return False
    return True


#: the stop reason of a run that met its task's criterion
CRITERION = "criterion"


def complete(out: Path, run: Any, train: Callable[[], str], resume_message: str, *, resumed: bool,
             write_figures: Callable[[Path], Any], figures: bool, quiet: bool) -> None:
    """Take a run whose checkpoint is loaded (a supervised ``Trainer`` or an RL ``AgentRun``) to its end.

    Done already (its criterion met and ``metrics.json`` written for that checkpoint): nothing. Met its
    criterion but killed before finishing: finish with that model, no more training. Otherwise
    ``train()`` to a stop reason and finish. Then the figures, once per final checkpoint (recorded in
    it, so a run killed while drawing draws them again). ``run`` has ``stopped``, ``updates``,
    ``figures_updates``, ``finish(reason)`` and ``save_checkpoint()``.
    """
    if run.stopped == CRITERION and metrics_are_final(out, run.stopped, run.updates):
        if not quiet:
            print(f"{out} already reached its criterion; nothing to do")
    else:
        if run.stopped == CRITERION:
            if not quiet:
                print(f"{out} met its criterion at update {run.updates}; finishing it")
            reason = CRITERION
        else:
            if resumed and not quiet:
                print(resume_message)
            reason = train()
        run.finish(reason)
    if figures and run.figures_updates != run.updates and draw_figures(out, write_figures):
        run.figures_updates = run.updates
        run.save_checkpoint()



def start_or_resume(out: Path, config: Mapping[str, Any], keys: Sequence[str], load_checkpoint: Callable[[], Any],
                    *, device: Any, versions: Mapping[str, Any],
                    comparable: Callable[[dict[str, Any]], dict[str, Any]] | None = None) -> bool:
    """Write config.json of a new run into ``out``, or resume the run already there; True if resumed.

    A folder holding a config.json is the same run only if its ``keys`` entries equal ``config``'s (after
    ``comparable``, which drops what may change between calls, e.g. a budget): else a ValueError naming them.
    The same run is resumed by ``load_checkpoint()`` if its checkpoint exists (else it starts afresh). Shared by
    the RL runs (:mod:`agents.rl.sb3_runs`, :mod:`agents.rl.reinforce_runs`)."""
    import datetime as _dt

    config_path = out / CONFIG
    if config_path.is_file():
        saved = RunDir(out).config
        mine = {k: config[k] for k in keys}
        theirs = {k: saved.get(k) for k in keys}
        if comparable is not None:
            mine, theirs = comparable(mine), comparable(theirs)
        if theirs != mine:
            diff = sorted(k for k in mine if theirs.get(k) != mine[k])
            raise ValueError(f"{out} holds a different run (differs in {', '.join(diff)}); "
                             "use another --out folder, or the same arguments to resume it")
        if (out / CHECKPOINT).is_file():
            load_checkpoint()
            return True
        return False
    out.mkdir(parents=True, exist_ok=True)
    write_json_atomic(config_path, {**config, "device": str(device), "versions": dict(versions),
                                    "created": _dt.datetime.now().isoformat(timespec="seconds")})
    return False


def task_of(task: Any, task_kwargs: Mapping[str, Any] | None = None):
    """The Task a training entry point was given: a task id (made with ``task_kwargs``) or a ready Task."""
    from neurotasks.mixture_task import MixtureTask
    from neurotasks.task import Task

    if isinstance(task, str):
        return make_run_task(task, task_kwargs)
    if task_kwargs:
        raise ValueError("task_kwargs only applies when task is given by id")
    if not isinstance(task, (Task, MixtureTask)):
        raise TypeError(f"task must be a task id, a neurotasks.Task or a MixtureTask, got {type(task).__name__}")
    return task


def make_run_task(task_id: str, task_kwargs: Mapping[str, Any] | None = None):
    """The task a run folder's config names: a registered task id, or a named task mixture (``yang19``,
    :mod:`neurotasks.mixture_task`)."""
    import neurotasks
    from neurotasks.mixture_task import is_mixture_name, make_mixture_task

    if is_mixture_name(task_id):
        return make_mixture_task(task_id, **dict(task_kwargs or {}))
    return neurotasks.make_task(task_id, **dict(task_kwargs or {}))
