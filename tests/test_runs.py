"""Run folders: save/load round trip, atomic writes, and clear errors for missing or corrupt folders."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

import agents
import neurotasks
from agents import runs
from agents.models import masks
from agents.models.eirnn import EIRNN
from agents.runs import RunDir


def _trained_model() -> EIRNN:
    model = EIRNN(3, 2, n_units=20, tau=np.linspace(60, 100, 20), mask_rec=masks.random_sparse(20, seed=0),
                  train_bias=True, seed=3)
    opt = torch.optim.Adam(model.parameters(), lr=0.05)
    for _ in range(5):
        z, _ = model(torch.rand(2, 8, 3), 20.0, generator=torch.Generator().manual_seed(0))
        opt.zero_grad()
        z.square().mean().backward()
        opt.step()
    return model


@pytest.fixture
def run_path(tmp_path):
    model = _trained_model()
    runs.save_model(tmp_path, model, {"task": {"id": "PerceptualDecision-v0", "kwargs": {"coherences": [6.4, 51.2]}}})
    runs.write_history_atomic(tmp_path / runs.HISTORY, [{"updates": 0, "trials": 0, "loss": 0.5, "rmse": float("nan")},
                                                        {"updates": 5, "trials": 100, "loss": 0.25, "extra": "x"}])
    runs.write_json_atomic(tmp_path / runs.METRICS, {"criterion_met": True, "final": {"percent_correct": 90.0},
                                                    "bad": float("inf")})
    return tmp_path, model


def test_save_load_round_trip_is_bit_identical(run_path):
    path, model = run_path
    loaded = agents.load(path)
    assert isinstance(loaded, EIRNN) and not loaded.training
    batch = neurotasks.make_task("PerceptualDecision-v0").trials(5, 1)
    for noise in (True, False):
        a = agents.simulate(model, batch, noise=noise, seed=11)
        b = agents.simulate(loaded, batch, noise=noise, seed=11)
        np.testing.assert_array_equal(a[0], b[0])
        np.testing.assert_array_equal(a[1], b[1])
    for key, value in model.effective_weights().items():
        np.testing.assert_array_equal(value, loaded.effective_weights()[key])


def test_run_dir_reads_everything(run_path):
    path, _ = run_path
    run = RunDir(path)
    assert run.config["model"]["n_units"] == 20
    task = run.task()
    assert task.id == "PerceptualDecision-v0" and list(task.coherences) == [6.4, 51.2]
    history = run.history()
    assert history[0]["updates"] == 0 and history[1]["loss"] == 0.25 and history[1]["extra"] == "x"
    assert np.isnan(history[0]["rmse"]) and history[0]["extra"] is None
    assert run.metrics == {"criterion_met": True, "final": {"percent_correct": 90.0}, "bad": None}
    assert run.figures_dir.is_dir() and run.figures_dir.name == "figures"
    assert json.loads((path / runs.METRICS).read_text())["bad"] is None, "strict JSON: no Infinity"


def test_missing_run_folder_and_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        RunDir(tmp_path / "nowhere")
    with pytest.raises(FileNotFoundError, match="does not exist"):
        agents.load(tmp_path / "nowhere")
    run = RunDir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"config\.json"):
        run.model()
    with pytest.raises(FileNotFoundError, match=r"history\.csv"):
        run.history()
    with pytest.raises(FileNotFoundError, match=r"metrics\.json"):
        _ = run.metrics


def test_missing_weights(run_path):
    path, _ = run_path
    (path / runs.WEIGHTS).unlink()
    with pytest.raises(FileNotFoundError, match=r"model\.safetensors"):
        agents.load(path)


@pytest.mark.parametrize(("name", "content", "match"), [
    (runs.CONFIG, "{not json", r"config\.json is corrupt"),
    (runs.CONFIG, "[1, 2]", r"config\.json is corrupt"),
    (runs.CONFIG, '{"model": {}}', r"config\.json is corrupt \(no 'task'"),
    (runs.METRICS, "", r"metrics\.json is corrupt"),
    (runs.WEIGHTS, "garbage bytes", r"model\.safetensors is corrupt"),
])
def test_corrupt_files_raise_value_errors_naming_them(run_path, name, content, match):
    path, _ = run_path
    (path / name).write_text(content)
    with pytest.raises(ValueError, match=match):
        run = RunDir(path)
        _ = run.metrics if name == runs.METRICS else run.model()


def test_weights_of_another_model_are_refused(run_path):
    path, _ = run_path
    runs.save_weights(path / runs.WEIGHTS, EIRNN(3, 2, n_units=7).state_dict())
    with pytest.raises(ValueError, match=r"does not match the model in config\.json"):
        agents.load(path)


def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path):
    target = tmp_path / "file.json"
    runs.write_json_atomic(target, {"a": 1})

    def broken(tmp):
        with open(tmp, "w") as f:
            f.write('{"a": ')
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        runs.write_atomic(target, broken)
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["file.json"], "the temporary file is removed"
