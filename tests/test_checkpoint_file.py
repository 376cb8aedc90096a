"""The checkpoint file: an exact round trip of the trainer's state, and clear errors on anything else."""

from __future__ import annotations

import json
import math
import pickle

import numpy as np
import pytest
import torch
from hypothesis import given
from hypothesis import strategies as st

from agents import checkpoint as checkpoint_file
from agents.checkpoint import CheckpointError


def _same(a, b) -> bool:
    """Equal in value and type, NaN equal to NaN, tensors bit-identical."""
    if isinstance(a, torch.Tensor):
        return isinstance(b, torch.Tensor) and a.dtype == b.dtype and a.shape == b.shape and \
            a.numpy().tobytes() == b.numpy().tobytes()
    if isinstance(a, np.ndarray):
        return isinstance(b, np.ndarray) and a.dtype == b.dtype and np.array_equal(a, b)
    if type(a) is not type(b):
        return False
    if isinstance(a, float):
        return (math.isnan(a) and math.isnan(b)) or a == b
    if isinstance(a, (list, tuple)):
        return len(a) == len(b) and all(_same(x, y) for x, y in zip(a, b, strict=True))
    if isinstance(a, dict):
        return list(a) == list(b) and all(_same(a[k], b[k]) for k in a)
    return a == b


tensors = st.builds(lambda shape, dtype, seed: (torch.rand(shape, generator=torch.Generator().manual_seed(seed))
                                                * 100).to(dtype),
                    st.lists(st.integers(0, 3), max_size=3).map(tuple),
                    st.sampled_from([torch.float32, torch.float64, torch.uint8, torch.int64]),
                    st.integers(0, 2**31))
leaves = st.one_of(st.none(), st.booleans(), st.integers(-2**130, 2**130), st.floats(allow_nan=True),
                   st.text(max_size=8), tensors)
keys = st.one_of(st.text(max_size=6), st.integers(-5, 5))
values = st.recursive(leaves, lambda inner: st.one_of(
    st.lists(inner, max_size=4), st.lists(inner, max_size=3).map(tuple), st.dictionaries(keys, inner, max_size=4)),
    max_leaves=20)


@given(st.dictionaries(st.text(min_size=1, max_size=6), values, max_size=5))
def test_save_and_load_are_an_exact_round_trip(tmp_path_factory, state):
    path = tmp_path_factory.mktemp("ckpt") / "checkpoint.safetensors"
    checkpoint_file.save(path, state, version=7)
    assert _same(checkpoint_file.load(path, version=7), state)


def test_the_trainer_state_kinds_round_trip(tmp_path):
    model = torch.nn.Linear(3, 2)
    optimizer = torch.optim.Adam(model.parameters(), lr=0.01, fused=True)
    model(torch.rand(4, 3)).sum().backward()
    optimizer.step()
    state = {"model": dict(model.state_dict()), "optimizer": optimizer.state_dict(),
             "generator": torch.Generator().manual_seed(3).get_state(),
             "rng": np.random.default_rng(5).bit_generator.state,
             "mt": np.random.Generator(np.random.MT19937(1)).bit_generator.state,
             "history": [{"loss": 0.5, "omega": float("nan"), "lr": 1e-3}], "best": None}
    path = tmp_path / "c.safetensors"
    checkpoint_file.save(path, state, version=2)
    back = checkpoint_file.load(path, version=2)
    assert _same(back, state)
    fresh = torch.optim.Adam(model.parameters(), lr=0.5, fused=True)
    fresh.load_state_dict(back["optimizer"])
    assert fresh.param_groups[0]["betas"] == (0.9, 0.999) and fresh.param_groups[0]["lr"] == 0.01
    rng = np.random.Generator(np.random.MT19937())
    rng.bit_generator.state = back["mt"]
    assert rng.integers(1 << 30) == np.random.Generator(np.random.MT19937(1)).integers(1 << 30)


def test_values_that_cannot_be_stored_are_refused(tmp_path):
    with pytest.raises(TypeError, match=r"'state/x'.*set"):
        checkpoint_file.save(tmp_path / "c", {"x": {1, 2}}, version=1)
    with pytest.raises(TypeError, match="dtype object"):
        checkpoint_file.save(tmp_path / "c", {"x": np.array([None])}, version=1)
    assert not list(tmp_path.iterdir())


def _header_file(path, metadata, tensors=None):
    from safetensors.torch import save

    path.write_bytes(save(tensors or {}, metadata=metadata))
    return path


class _Payload:
    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("case", ["garbage", "pickle", "huge header", "truncated", "no format", "other version",
                                  "state not json", "state is a pickle", "dangling tensor", "unused tensor",
                                  "unknown tag", "bad ndarray", "not an object", "deep nesting"])
def test_crafted_files_are_corrupt_and_nothing_runs(tmp_path, case):
    marker = tmp_path / "marker"
    path = tmp_path / "checkpoint.safetensors"
    ok = {"format": checkpoint_file.FORMAT, "version": "2"}
    if case == "garbage":
        path.write_bytes(b"not a checkpoint at all")
    elif case == "pickle":
        path.write_bytes(pickle.dumps({"x": _Payload(marker)}))
    elif case == "huge header":
        path.write_bytes((2**62).to_bytes(8, "little") + b"{}")
    elif case == "truncated":
        checkpoint_file.save(path, {"w": torch.ones(100)}, version=2)
        path.write_bytes(path.read_bytes()[:-40])
    elif case == "no format":
        _header_file(path, {"state": "{}"})
    elif case == "other version":
        _header_file(path, {**ok, "version": "1", "state": "{}"})
    elif case == "state not json":
        _header_file(path, {**ok, "state": "{'a': 1"})
    elif case == "state is a pickle":
        _header_file(path, {**ok, "state": pickle.dumps(_Payload(marker)).hex()})
    elif case == "dangling tensor":
        _header_file(path, {**ok, "state": json.dumps({"w": {"$tensor": "nope"}})})
    elif case == "unused tensor":
        _header_file(path, {**ok, "state": "{}"}, {"w": torch.ones(2)})
    elif case == "unknown tag":
        _header_file(path, {**ok, "state": json.dumps({"w": {"$pickle": "gASV"}})})
    elif case == "bad ndarray":
        _header_file(path, {**ok, "state": json.dumps({"w": {"$ndarray": [1], "dtype": "O"}})})
    elif case == "not an object":
        _header_file(path, {**ok, "state": "[1, 2]"})
    elif case == "deep nesting":
        _header_file(path, {**ok, "state": "[" * 100_000 + "]" * 100_000})
    with pytest.raises(CheckpointError, match=r"checkpoint\.safetensors") as caught:
        checkpoint_file.load(path, version=2)
    assert isinstance(caught.value, ValueError)
    assert not marker.exists()
    if case == "pickle":           # the payload is live: unpickling it would have run
        pickle.loads(path.read_bytes())
        assert marker.exists()
