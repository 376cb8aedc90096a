"""A training checkpoint as one safetensors file: tensors as tensors, everything else as JSON.

A run folder may come from anyone, so nothing read back from it can run code: no pickle. The
trainer's state (model, optimizer moments and scalars, torch generator states as uint8 tensors,
NumPy ``bit_generator.state`` dicts, counters, history) is a nested structure of dicts, lists,
tuples, numbers, strings and tensors. :func:`encode` splits it into a JSON document, in which each
tensor is replaced by ``{"$tensor": name}``, and a flat name -> tensor table; the file is
``safetensors`` with the JSON in its header metadata. One file, written atomically, so a kill never
leaves a checkpoint mixed from two moments. Decoding is exact: floats (NaN and infinities too)
round-trip through ``repr``, integers of any size, tuples and non-string dict keys are tagged.

Tags: ``{"$tensor": name}``, ``{"$tuple": [...]}``, ``{"$items": [[key, value], ...]}`` (a dict
whose keys are not all strings, or that has a key starting with "$"), ``{"$ndarray": [...],
"dtype": "uint32"}`` (a NumPy array, e.g. an MT19937 state).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch

from agents.atomic import write_bytes_atomic

#: the ``format`` entry of the file's metadata
FORMAT = "neurotasks-checkpoint"
#: NumPy dtypes a checkpoint may hold in a ``$ndarray`` (numbers only)
_NDARRAY_KINDS = "biuf"


class CheckpointError(ValueError):
    """A checkpoint file that cannot be read: corrupt, truncated, crafted, or of another format."""


# ---------------------------------------------------------------------- encoding
def encode(state: Any) -> tuple[Any, dict[str, torch.Tensor]]:
    """(JSON-able document, name -> CPU tensor) for ``state``."""
    tensors: dict[str, torch.Tensor] = {}

    def walk(value: Any, where: str) -> Any:
        if isinstance(value, torch.Tensor):
            if where in tensors:
                raise ValueError(f"two tensors of the checkpoint would both be named {where!r}")
            tensors[where] = value.detach().to("cpu", copy=True).contiguous()
            return {"$tensor": where}
        if isinstance(value, bool) or value is None or isinstance(value, (int, float, str)):
            return value
        if isinstance(value, np.generic):
            return walk(value.item(), where)
        if isinstance(value, np.ndarray):
            if value.dtype.kind not in _NDARRAY_KINDS:
                raise TypeError(f"checkpoint entry {where!r}: arrays of dtype {value.dtype} cannot be stored")
            return {"$ndarray": value.tolist(), "dtype": value.dtype.str}
        if isinstance(value, tuple):
            return {"$tuple": [walk(v, f"{where}/{i}") for i, v in enumerate(value)]}
        if isinstance(value, list):
            return [walk(v, f"{where}/{i}") for i, v in enumerate(value)]
        if isinstance(value, Mapping):
            if all(isinstance(k, str) and not k.startswith("$") for k in value):
                return {k: walk(v, f"{where}/{k}") for k, v in value.items()}
            return {"$items": [[walk(k, f"{where}/key"), walk(v, f"{where}/{k}")] for k, v in value.items()]}
        raise TypeError(f"checkpoint entry {where!r}: {type(value).__name__} values cannot be stored")

    return walk(state, "state"), tensors


def decode(document: Any, tensors: Mapping[str, torch.Tensor]) -> Any:
    """The inverse of :func:`encode`; raises CheckpointError on anything it did not write."""
    used: set[str] = set()

    def walk(value: Any) -> Any:
        if isinstance(value, list):
            return [walk(v) for v in value]
        if not isinstance(value, dict):
            return value
        if "$tensor" in value:
            name = value["$tensor"]
            if len(value) != 1 or not isinstance(name, str) or name not in tensors:
                raise CheckpointError(f"a tensor entry refers to {name!r}, which the file does not hold")
            used.add(name)
            return tensors[name]
        if "$tuple" in value:
            if len(value) != 1 or not isinstance(value["$tuple"], list):
                raise CheckpointError("a malformed $tuple entry")
            return tuple(walk(v) for v in value["$tuple"])
        if "$items" in value:
            items = value["$items"]
            if len(value) != 1 or not isinstance(items, list) or \
                    not all(isinstance(p, list) and len(p) == 2 for p in items):
                raise CheckpointError("a malformed $items entry")
            out = {}
            for key, item in items:
                key = walk(key)
                if not isinstance(key, (str, int, float, bool)) and key is not None:
                    raise CheckpointError(f"a dict key of type {type(key).__name__}")
                out[key] = walk(item)
            return out
        if "$ndarray" in value:
            dtype = value.get("dtype")
            if set(value) != {"$ndarray", "dtype"} or not isinstance(dtype, str):
                raise CheckpointError("a malformed $ndarray entry")
            try:
                np_dtype = np.dtype(dtype)
                if np_dtype.kind not in _NDARRAY_KINDS:
                    raise TypeError(dtype)
                return np.asarray(value["$ndarray"], dtype=np_dtype)
            except (TypeError, ValueError, OverflowError) as err:
                raise CheckpointError(f"a malformed $ndarray entry ({err})") from None
        if any(isinstance(k, str) and k.startswith("$") for k in value):
            raise CheckpointError(f"unknown entries {sorted(k for k in value if k.startswith('$'))}")
        return {k: walk(v) for k, v in value.items()}

    try:
        state = walk(document)
    except RecursionError:
        raise CheckpointError("nested too deeply") from None
    if used != set(tensors):
        raise CheckpointError(f"tensors not referred to by the state: {sorted(set(tensors) - used)[:5]}")
    return state


# ---------------------------------------------------------------------- files
def save(path: str | os.PathLike, state: Mapping[str, Any], version: int) -> Path:
    """``state`` to ``path`` as one safetensors file, atomically (fsynced temporary file, then rename)."""
    from safetensors.torch import save as to_bytes

    document, tensors = encode(dict(state))
    metadata = {"format": FORMAT, "version": str(int(version)), "state": json.dumps(document, allow_nan=True)}
    return write_bytes_atomic(path, to_bytes(tensors, metadata=metadata))


def load(path: str | os.PathLike, version: int, device: str | torch.device = "cpu") -> dict[str, Any]:
    """The state :func:`save` wrote to ``path`` (tensors on ``device``); CheckpointError naming the file
    if it is not such a file, of this ``version``."""
    from safetensors import SafetensorError
    from safetensors.torch import load as from_bytes

    path = Path(path)
    try:
        data = path.read_bytes()
    except OSError as err:
        raise CheckpointError(f"{path} cannot be read ({err.strerror or err})") from None
    try:
        tensors = from_bytes(data)
        header_size = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8:8 + header_size]).get("__metadata__") or {}
    except (SafetensorError, ValueError, UnicodeDecodeError, AttributeError) as err:
        raise CheckpointError(f"{path} is corrupt (not a safetensors file: {err})") from None
    if not isinstance(metadata, dict) or metadata.get("format") != FORMAT:
        raise CheckpointError(f"{path} is corrupt (not a neurotasks checkpoint)")
    if metadata.get("version") != str(int(version)):
        raise CheckpointError(f"{path} is a checkpoint of format version {metadata.get('version')!r}; this version "
                              f"of neurotasks reads version {version}")
    try:
        document = json.loads(metadata.get("state", ""))
    except (ValueError, RecursionError) as err:
        raise CheckpointError(f"{path} is corrupt (its state is not valid JSON: {err})") from None
    try:
        state = decode(document, {k: v.to(device) for k, v in tensors.items()})
    except CheckpointError as err:
        raise CheckpointError(f"{path} is corrupt ({err})") from None
    if not isinstance(state, dict):
        raise CheckpointError(f"{path} is corrupt (its state is not a JSON object)")
    return state


# ---------------------------------------------------------------------- contents
def check_state(state: Mapping[str, Any], path: str | os.PathLike, fields: Mapping[str, type | tuple[type, ...]],
                weights_key: str, expected: Mapping[str, torch.Tensor], what: str) -> None:
    """CheckpointError naming ``path`` unless ``state`` has every entry of ``fields``, each of its type (an
    int is never a bool), and its weights (``state[weights_key]``, and the kept best's if any) have exactly
    the names, shapes and dtypes of ``expected`` (the ``what`` that config.json describes), all finite."""
    from agents.runs import CONFIG, non_finite_entries

    def corrupt(why: str) -> CheckpointError:
        return CheckpointError(f"{path} is corrupt ({why})")

    missing = [k for k in fields if k not in state]
    if missing:
        raise corrupt(f"no {', '.join(missing)}")
    for key, kind in fields.items():
        value = state[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise corrupt(f"{key} is a {type(value).__name__}")
    weights = {weights_key: state[weights_key]}
    if state.get("best") is not None:
        if not isinstance(state["best"].get("state"), dict):
            raise corrupt("best has no weights")
        weights["best"] = state["best"]["state"]
    for name, sd in weights.items():
        if set(sd) != set(expected) or any(not isinstance(sd[k], torch.Tensor) or sd[k].shape != v.shape
                                           or sd[k].dtype != v.dtype for k, v in expected.items()):
            raise corrupt(f"its {name} weights do not match the {what} in {CONFIG}")
        bad = non_finite_entries(sd)
        if bad:
            raise corrupt(f"its {name} weights hold NaN or infinity in {', '.join(bad)}")

