"""``neurotasks convert RUN_DIR``: turn a run folder's old ``checkpoint.pt`` into ``checkpoint.safetensors``.

Earlier versions saved checkpoints with ``torch.save`` (pickle), which neurotasks no longer loads:
unpickling a file can run arbitrary code. This is the one place that still reads such a file, with
``torch.load(weights_only=True)``, torch's restricted unpickler that builds only tensors and plain
containers and numbers (it cannot run code). A file that needs anything else is refused, not
converted. The result is the checkpoint the trainer writes today (tensors in safetensors, the rest
as JSON); the old file is removed once the new one is on disk, and the run resumes exactly.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

#: entries of a version-1 checkpoint.pt
LEGACY_FIELDS = ("version", "model", "optimizer", "generator", "val_generator", "train_rng", "val_rng", "updates",
                 "trials", "wall_s", "history", "best", "reached", "next_validation", "train_losses", "omegas")


class ConvertError(Exception):
    """A run folder that cannot be converted; reported in one line."""


def add_parser(sub, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=f"{help_text}. Reads it with torch.load(weights_only=True) "
                       "(which cannot run code), writes checkpoint.safetensors and removes checkpoint.pt.")
    p.add_argument("run_dir", metavar="RUN_DIR", help="a run folder written by an earlier `neurotasks train`")


def run(args: argparse.Namespace) -> int:
    from agents.run_lock import RunLockedError

    try:
        message = convert(args.run_dir)
    except ConvertError as error:
        print(f"neurotasks convert: error: {error}", file=sys.stderr)
        return 2
    except (RunLockedError, OSError) as error:
        print(f"neurotasks convert: error: {error}", file=sys.stderr)
        return 1
    print(message)
    return 0


def convert(run_dir: str) -> str:
    """Convert ``run_dir``'s checkpoint.pt; returns what was done. ConvertError if it cannot be."""
    from agents import checkpoint as checkpoint_file
    from agents import runs

    path = Path(run_dir)
    if not path.is_dir():
        raise ConvertError(f"run folder {run_dir!r} does not exist")
    legacy = path / runs.LEGACY_CHECKPOINT
    if not legacy.is_file() or legacy.is_symlink():
        if (path / runs.CHECKPOINT).is_file():
            raise ConvertError(f"{path} has no {runs.LEGACY_CHECKPOINT} to convert; its {runs.CHECKPOINT} is "
                               "already in the current format")
        raise ConvertError(f"{legacy} does not exist (or is not a regular file): nothing to convert")
    with runs.open_for_writing(path):
        state = _read_legacy(legacy)
        model_state = _model_state(path)
        from agents.training.trainer import CHECKPOINT_VERSION, check_checkpoint_state

        target = path / runs.CHECKPOINT
        try:
            check_checkpoint_state(state, legacy, model_state)
        except checkpoint_file.CheckpointError as error:
            raise ConvertError(str(error)) from None
        checkpoint_file.save(target, state, CHECKPOINT_VERSION)
        checkpoint_file.load(target, CHECKPOINT_VERSION)                 # reads back: the new file is whole
        legacy.unlink()
    return (f"converted {legacy} -> {target} ({state['updates']} updates, {state['trials']} trials); "
            f"removed {legacy.name}")


def _read_legacy(legacy: Path) -> dict[str, Any]:
    """The version-1 checkpoint as the state the trainer saves today (``stopped`` and ``figures_updates`` added)."""
    import pickle
    import warnings

    import torch

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")          # e.g. "Detected pickle protocol 4": the error says enough
            old = torch.load(legacy, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as error:
        raise ConvertError(f"{legacy} cannot be read with torch.load(weights_only=True) ({_reason(error)}): it is "
                           "not converted; it is corrupt, or holds objects other than tensors and plain values, "
                           "which a neurotasks checkpoint never does, and may have been crafted to run code "
                           "(train the run again in a fresh folder)") from None
    except Exception as error:  # a truncated or foreign file fails in many ways; all mean the same
        raise ConvertError(f"{legacy} is corrupt ({type(error).__name__}: {_reason(error)})") from None
    if not isinstance(old, dict) or old.get("version") != 1:
        raise ConvertError(f"{legacy} is not a neurotasks checkpoint of format version 1")
    missing = [k for k in LEGACY_FIELDS if k not in old]
    if missing:
        raise ConvertError(f"{legacy} is corrupt (no {', '.join(missing)})")
    state = {k: old[k] for k in LEGACY_FIELDS if k != "version"}
    state["model"] = dict(state["model"])
    if isinstance(state["best"], dict) and isinstance(state["best"].get("state"), dict):
        state["best"] = {**state["best"], "state": dict(state["best"]["state"])}
    state["bad_total"] = int(old.get("bad_total", 0))
    # a version-1 run saved a checkpoint with `reached` set only at the validation that met the criterion
    state["stopped"] = "criterion" if state["reached"] is not None else None
    state["figures_updates"] = None
    return state


def _reason(error: Exception) -> str:
    """The line of torch's long unpickling message that says what was refused."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    for line in lines:
        if "GLOBAL" in line or line.startswith("Unsupported"):
            return line
    return lines[-1] if lines else type(error).__name__


def _model_state(path: Path) -> dict[str, Any]:
    """A state dict of the network config.json describes (names, shapes, dtypes to check the file against)."""
    from agents.models import registry
    from agents.runs import RunDir, model_config_of

    try:
        return registry.build(model_config_of(RunDir(path).config)).state_dict()
    except (OSError, ValueError, TypeError) as error:
        raise ConvertError(f"cannot read {path}'s config.json: {error}") from None
