"""Run folders: save/load round trip, atomic writes, and clear errors for missing or corrupt folders."""

from __future__ import annotations

import errno
import json
import os

import numpy as np
import pytest
import torch

import agents
import neurotasks
from agents import atomic, runs
from agents.atomic import WriteError
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


@pytest.mark.parametrize("code", [errno.ENOSPC, errno.EIO, errno.EROFS, errno.EACCES])
def test_atomic_write_keeps_the_old_file_when_writing_fails(tmp_path, code):
    target = tmp_path / "file.json"
    runs.write_json_atomic(target, {"a": 1})

    def broken(tmp):
        with open(tmp, "w") as f:
            f.write('{"a": ')
        raise OSError(code, os.strerror(code))

    with pytest.raises(WriteError, match=f"cannot write {target}: {os.strerror(code)}") as caught:
        atomic.write_atomic(target, broken)
    assert caught.value.errno == code and isinstance(caught.value, OSError)
    assert json.loads(target.read_text()) == {"a": 1}
    assert [p.name for p in tmp_path.iterdir()] == ["file.json"], "the temporary file is removed"


def test_a_failing_byte_write_removes_its_temporary_file(tmp_path, monkeypatch):
    target = tmp_path / "model.safetensors"
    runs.save_weights(target, EIRNN(3, 2, n_units=5).state_dict())
    before = target.read_bytes()

    def half_then_full(fd, data):
        os.write(fd, bytes(data[: len(data) // 2]))
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    monkeypatch.setattr(atomic, "_write_all", half_then_full)
    with pytest.raises(WriteError, match="No space left on device"):
        runs.save_weights(target, EIRNN(3, 2, n_units=5, seed=1).state_dict())
    assert target.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["model.safetensors"]


def test_writes_are_fsynced_before_the_rename(tmp_path, monkeypatch):
    synced, renamed = [], []
    real_fsync, real_replace = os.fsync, os.replace
    for name in ("fsync", "fdatasync"):
        monkeypatch.setattr(atomic.os, name, lambda fd: (synced.append(os.readlink(f"/proc/self/fd/{fd}")),
                                                         real_fsync(fd)))
    monkeypatch.setattr(atomic.os, "replace", lambda a, b: (renamed.append((str(a), len(synced))), real_replace(a, b)))
    if not os.path.isdir("/proc/self/fd"):
        pytest.skip("needs /proc to name the fsynced descriptors")
    atomic.write_text_atomic(tmp_path / "a.txt", "hello")
    (tmp, synced_before), = renamed
    assert synced[:synced_before] == [tmp], "the temporary file is fsynced, then renamed"
    assert synced[synced_before:] == [str(tmp_path)], "then its folder"


def test_a_symbolic_link_is_never_written_through(tmp_path):
    elsewhere = tmp_path / "elsewhere.json"
    elsewhere.write_text("{}")
    link = tmp_path / "run" / "metrics.json"
    link.parent.mkdir()
    link.symlink_to(elsewhere)
    with pytest.raises(ValueError, match="symbolic link"):
        runs.write_json_atomic(link, {"a": 1})
    assert elsewhere.read_text() == "{}" and link.is_symlink()
    (link.parent / "figures").symlink_to(tmp_path)
    with pytest.raises(ValueError, match="symbolic link"):
        _ = RunDir(link.parent).figures_dir


def test_leftover_temporary_files_are_removed_when_a_folder_is_opened_for_writing(tmp_path):
    (tmp_path / "figures").mkdir()
    leftovers = [tmp_path / ".checkpoint.safetensors.k2j3.tmp", tmp_path / "figures" / ".psychometric.png.x1.tmp"]
    kept = [tmp_path / "notes.tmp", tmp_path / "history.csv"]
    for path in leftovers + kept:
        path.write_text("x")
    lock = runs.open_for_writing(tmp_path)
    try:
        assert not any(p.exists() for p in leftovers) and all(p.exists() for p in kept)
    finally:
        lock.release()


def test_non_finite_weights_are_refused(run_path):
    path, model = run_path
    state = model.state_dict()
    state["w_rec"] = state["w_rec"].clone()
    state["w_rec"][0, 1] = float("nan")
    state["b_out"] = torch.full_like(state["b_out"], float("inf"))
    runs.save_weights(path / runs.WEIGHTS, state)
    with pytest.raises(ValueError, match=r"model\.safetensors holds non-finite weights .* in b_out, w_rec"):
        agents.load(path)
