"""Where each sub-environment's stream of trials stands, as plain data that restarts it exactly.

A sub-environment draws its trials in chunks of ``trial_chunk`` from its own generator, so the
trial it starts next is fixed by two things: the generator's state just before the chunk that
holds that trial was drawn, and the trial's place in the chunk. ``TaskVectorEnv.trial_streams()``
returns those, one pair per sub-environment, and ``reset(options={"trial_streams": ...})`` puts
them back: each generator is set to its state, the chunk is drawn again (the same trials, noise
and all) and its first ``offset`` trials are skipped. The next trial of every sub-environment,
and everything after it, is then what the original would have given.

A TrialStream task's trials also follow what its ``chain`` carries from trial to trial (a
block's rule, a drifting walk: ``neurotasks/tasks/trial_stream.py``). Its streams then also hold
each sub-environment's carry as it stood when that chunk was drawn (``"carry"``: name -> nested
lists), from which the chunk is chained again.

It is what a training loop that steps the env across many updates saves in its checkpoint to
resume exactly without pickling the env (run folders never unpickle): generator states are JSON
(ints and names), so the whole thing is a JSON object.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

#: the format this module writes and reads
STREAMS_VERSION = 1

#: the bit generators a saved state may name (numpy's own)
BIT_GENERATORS = ("PCG64", "PCG64DXSM", "MT19937", "Philox", "SFC64")


def streams_state(task_id: str, trial_chunk: int, states: Sequence[Mapping[str, Any]],
                  offsets: Sequence[int], carries: Sequence[Mapping[str, Any]] | None = None) -> dict[str, Any]:
    """The JSON object for sub-environments whose next trials are trial ``offsets[i]`` of the chunk
    drawn from generator state ``states[i]`` (and chained from ``carries[i]``, for a TrialStream task)."""
    streams = [{"state": _plain(state), "offset": int(k)} for state, k in zip(states, offsets, strict=True)]
    if carries is not None:
        for stream, carry in zip(streams, carries, strict=True):
            stream["carry"] = _plain(carry)
    return {"version": STREAMS_VERSION, "task": task_id, "trial_chunk": int(trial_chunk), "streams": streams}


def carry_from(streams: Sequence[Mapping[str, Any]], template: Mapping[str, np.ndarray]) -> dict[str, np.ndarray]:
    """The (n, ...) carry of a TrialStream task from each stream's saved ``"carry"``, shaped and typed as
    ``template`` (the task's ``new_carry(n)``); ValueError naming what does not fit."""
    carry = {key: np.array(value, copy=True) for key, value in template.items()}
    for i, stream in enumerate(streams):
        where = f"options['trial_streams']['streams'][{i}]['carry']"
        saved = stream.get("carry")
        if not isinstance(saved, Mapping):
            raise ValueError(f"{where} is missing: this task's trials follow a carry from trial to trial, which a "
                             "trial_streams() of it holds")
        if set(saved) != set(carry):
            raise ValueError(f"{where} must have the keys {sorted(carry)}, got {sorted(saved)}")
        for key, value in carry.items():
            try:
                row = np.asarray(saved[key], dtype=value.dtype)
            except (TypeError, ValueError) as err:
                raise ValueError(f"{where}[{key!r}] is not {value.dtype} data ({err})") from None
            if row.shape != value.shape[1:]:
                raise ValueError(f"{where}[{key!r}] must have shape {value.shape[1:]}, got {row.shape}")
            value[i] = row
    return carry


def generators_from(state: Any, task_id: str, num_envs: int, trial_chunk: int
                    ) -> tuple[list[np.random.Generator], np.ndarray]:
    """(a generator per sub-environment set to its saved state, the (n,) offsets) of a
    ``streams_state`` object, checked against the env it is put back into; ValueError naming
    what does not fit."""
    if not isinstance(state, Mapping):
        raise TypeError("options['trial_streams'] must be the dict trial_streams() returns, "
                        f"got {type(state).__name__}")
    if state.get("version") != STREAMS_VERSION:
        raise ValueError(f"options['trial_streams'] has version {state.get('version')!r}, "
                         f"this env reads version {STREAMS_VERSION}")
    if state.get("task") != task_id:
        raise ValueError(f"options['trial_streams'] are streams of {state.get('task')!r}, not of {task_id!r}")
    if state.get("trial_chunk") != trial_chunk:
        raise ValueError(f"options['trial_streams'] were drawn in chunks of {state.get('trial_chunk')!r} trials, "
                         f"this env draws {trial_chunk}: make it with trial_chunk={state.get('trial_chunk')!r}")
    streams = state.get("streams")
    if not isinstance(streams, Sequence) or len(streams) != num_envs:
        raise ValueError(f"options['trial_streams'] must hold {num_envs} streams (one per sub-environment), "
                         f"got {len(streams) if isinstance(streams, Sequence) else streams!r}")
    rngs, offsets = [], np.zeros(num_envs, np.int64)
    for i, stream in enumerate(streams):
        where = f"options['trial_streams']['streams'][{i}]"
        if not isinstance(stream, Mapping) or not isinstance(stream.get("state"), Mapping):
            raise ValueError(f"{where} must be a dict with a generator 'state' and an 'offset'")
        offset = stream.get("offset")
        if isinstance(offset, bool) or not isinstance(offset, (int, np.integer)) or not 0 <= offset < trial_chunk:
            raise ValueError(f"{where}['offset'] must be an int in [0, {trial_chunk}), got {offset!r}")
        name = stream["state"].get("bit_generator")
        if name not in BIT_GENERATORS:
            raise ValueError(f"{where}['state'] names bit generator {name!r}; known: {', '.join(BIT_GENERATORS)}")
        bit_generator = getattr(np.random, name)()
        try:
            bit_generator.state = dict(stream["state"])
        except (TypeError, ValueError, KeyError) as err:
            raise ValueError(f"{where}['state'] is not a {name} state ({err})") from None
        rngs.append(np.random.Generator(bit_generator))
        offsets[i] = offset
    return rngs, offsets


def _plain(value: Any) -> Any:
    """A generator state with NumPy scalars and arrays made plain Python (JSON)."""
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.integer):
        return int(value)
    if isinstance(value, np.floating):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return value
