"""Trainer: the update step, presets, stopping, resuming, every task, and a CI-sized training run."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

import agents
import neurotasks
from agents.models.eirnn import EIRNN
from agents.runs import RunDir
from agents.training.loss import masked_mse, rate_penalty, weight_penalty
from agents.training.presets import PRESETS, TrainerSettings, preset
from agents.training.trainer import UpdateStep, make_optimizer, model_config, resolve_device, threads_for
from neurotasks.criterion import Criterion
from tests.update_check import assert_update_by_hand_equals_autograd

TINY = {"validation_every": 64, "validation_trials": 40, "batch_size": 16}


def tiny_train(tmp_path, name="run", **kwargs):
    task = kwargs.pop("task", "PerceptualDecision-v0")
    options = {"preset": "fast", "n_units": 16, "settings": TINY, "quiet": True, "figures": False, "max_trials": 128}
    options.update(kwargs)
    return agents.train(task, out=tmp_path / name, **options)


# ---------------------------------------------------------------------- loss and presets
def test_masked_mse_is_normalised_by_the_mask():
    outputs = torch.tensor([[[1.0], [2.0], [3.0]]])
    targets = torch.zeros(1, 3, 1)
    mask = torch.tensor([[[1.0], [0.0], [1.0]]])
    assert float(masked_mse(outputs, targets, mask)) == pytest.approx((1 + 9) / 2)


def test_penalties():
    model = EIRNN(3, 2, n_units=10, seed=0)
    assert weight_penalty(model) is None and rate_penalty(torch.ones(2, 3, 4), 0.0) is None
    assert float(weight_penalty(model, l1=1.0).detach()) > 0
    rates = torch.ones(2, 3, 4)
    valid = torch.tensor([[1.0, 1.0, 0.0], [1.0, 0.0, 0.0]])
    assert float(rate_penalty(rates * 2, 0.5, valid)) == pytest.approx(0.5 * 4)


def test_pycog_preset_is_the_papers_protocol():
    p = PRESETS["pycog"]
    assert (p.optimizer, p.learning_rate, p.batch_size, p.grad_clip, p.lambda_omega, p.validation_every) == \
        ("sgd", 0.01, 20, 1.0, 2.0, 10_000)
    assert PRESETS["fast"].optimizer == "adam"
    with pytest.raises(ValueError, match="unknown preset"):
        preset("slow")
    with pytest.raises(ValueError, match="learning_rat"):
        p.updated(learning_rat=0.1)
    with pytest.raises(ValueError, match="batch_size"):
        TrainerSettings(batch_size=0)
    with pytest.raises(ValueError, match="optimizer"):
        TrainerSettings(optimizer="rmsprop")


def test_threads_and_device():
    assert threads_for(100, 20) == 1
    assert threads_for(500, 20) == min(2, __import__("os").cpu_count())
    assert resolve_device("cpu").type == "cpu"
    if not torch.cuda.is_available():
        with pytest.raises(RuntimeError, match="CUDA"):
            resolve_device("cuda")


def test_model_config_follows_the_suggested_network():
    cfg = model_config(neurotasks.make_task("ParametricWorkingMemory-v0"), seed=1)
    assert cfg["n_units"] == 500 and cfg["excitatory_fraction"] == 0.8
    rec = np.asarray(cfg["mask_rec"])
    assert rec[:, :400].mean() == pytest.approx(0.1, abs=0.01)
    flip_flop = model_config(neurotasks.make_task("FlipFlop-v0"), n_units=30)
    assert flip_flop["tau"] == 20.0 and flip_flop["train_bias"], "signed outputs need a trained output bias"
    assert "train_bias" not in model_config(neurotasks.make_task("PerceptualDecision-v0"))


# ---------------------------------------------------------------------- the update step
def _step(settings=None, seed=0):
    model = EIRNN(3, 2, n_units=12, seed=seed)
    settings = settings or PRESETS["pycog"]
    return model, UpdateStep(model, make_optimizer(model, settings), settings, torch.Generator().manual_seed(0))


def _data():
    gen = torch.Generator().manual_seed(1)
    return torch.rand(4, 10, 3, generator=gen), torch.rand(4, 10, 2, generator=gen), torch.ones(4, 10, 2)


def test_update_clips_the_gradient_and_reports_omega():
    model, step = _step(PRESETS["pycog"].updated(learning_rate=1.0))
    before = {k: v.detach().clone() for k, v in model.named_parameters()}
    stats = step(*_data(), 20.0)
    assert stats["ok"] and math.isfinite(stats["loss"]) and math.isfinite(stats["omega"])
    moved = math.sqrt(sum(float((p.detach() - before[k]).square().sum()) for k, p in model.named_parameters()))
    assert moved <= 1.0 + 1e-5, "SGD step of lr 1 on a gradient clipped to norm 1"


def test_non_finite_gradient_is_skipped_and_shrinks_the_learning_rate():
    model, step = _step()
    with torch.no_grad():
        model.w_out[0, 0] = float("inf")
    w_in = model.w_in.detach().clone()
    w_rec = model.w_rec.detach().clone()
    stats = step(*_data(), 20.0)
    assert not stats["ok"]
    assert step.optimizer.param_groups[0]["lr"] == pytest.approx(0.005)
    assert torch.equal(model.w_in, w_in), "the update is skipped"
    torch.testing.assert_close(model.w_rec.detach(), w_rec * (1 - 0.02 * 0.01)), "pycog shrinks W_rec"


def test_persistent_divergence_raises():
    model, step = _step(PRESETS["pycog"].updated(max_bad_updates=3))
    with torch.no_grad():
        model.w_out[0, 0] = float("nan")
    step(*_data(), 20.0)
    step(*_data(), 20.0)
    with pytest.raises(RuntimeError, match="diverged"):
        step(*_data(), 20.0)



@pytest.mark.parametrize(("preset_name", "model_kwargs"), [
    ("pycog", {}),
    ("fast", {}),
    ("pycog", {"positivity": "abs", "train_bias": True}),
    ("fast", {"dale": False, "nonlinearity": "tanh"}),
    ("pycog", {"tau": np.linspace(50.0, 100.0, 12), "sigma_rec": 0.3}),
])
def test_update_by_hand_equals_the_autograd_update(preset_name, model_kwargs):
    """The update outside autograd (loss gradient, BPTT with Ω, Dale chain rule, clip, SGD step all by hand, on
    buffers reused across updates of different lengths) gives the autograd update's numbers."""
    settings = PRESETS[preset_name].updated(learning_rate=0.05)
    assert_update_by_hand_equals_autograd(lambda: EIRNN(3, 2, n_units=12, seed=3, **model_kwargs), settings)


def test_update_by_hand_refuses_non_finite_inputs():
    model, step = _step()
    inputs, targets, mask = _data()
    inputs[1, 3, 0] = float("nan")
    before = model.w_rec.detach().clone()
    with pytest.raises(ValueError, match="NaN or Inf"):
        step(inputs, targets, mask, 20.0)
    assert torch.equal(model.w_rec.detach(), before)

def test_penalties_use_autograd_and_still_train():
    model, step = _step(PRESETS["pycog"].updated(l2_rates=0.1, l1_weights=0.01))
    before = model.w_rec.detach().clone()
    stats = step(*_data(), 20.0)
    assert stats["ok"] and not torch.equal(model.w_rec.detach(), before)

# ---------------------------------------------------------------------- runs of the trainer
def test_a_short_run_writes_a_complete_folder(tmp_path):
    run = tiny_train(tmp_path)
    assert isinstance(run, RunDir)
    cfg = run.config
    assert cfg["task"] == {"id": "PerceptualDecision-v0", "kwargs": {}}
    assert cfg["preset"] == "fast" and cfg["seed"] == 0 and cfg["model"]["n_units"] == 16
    assert set(cfg["versions"]) == {"python", "torch", "numpy", "gymnasium", "neurotasks"}
    history = run.history()
    assert [r["trials"] for r in history] == [0, 64, 128]
    assert {"updates", "trials", "wall_s", "loss", "percent_correct", "min_condition_percent_correct"} <= set(
        history[0])
    metrics = run.metrics
    assert metrics["criterion"] == "mean of last 5 percent_correct > 85"
    assert metrics["criterion_met"] is False and metrics["stopped"] == "max_trials"
    assert metrics["trials_to_criterion"] is None and {"percent_correct", "loss"} <= set(metrics["final"])
    assert metrics["best"]["trials"] in (0, 64, 128)
    for name in ("model.safetensors", "checkpoint.safetensors", "run.lock"):
        assert (run.path / name).is_file()
    assert not (run.path / "checkpoint.pt").exists(), "no pickle is written"
    assert not list(run.path.glob(".*.tmp")), "no temporary files left"
    model = run.model()
    assert not model.training and model.n_units == 16


def test_resuming_gives_the_same_run_as_never_stopping(tmp_path):
    straight = tiny_train(tmp_path, "straight", max_trials=256)
    tiny_train(tmp_path, "stopped", max_trials=96)               # "killed" after two validations
    first = (tmp_path / "stopped" / "history.csv").read_text()
    resumed = tiny_train(tmp_path, "stopped", max_trials=256)
    assert (tmp_path / "stopped" / "history.csv").read_text().startswith(first), "earlier rows kept as written"
    keep = ("updates", "trials", "loss", "percent_correct", "train_loss")
    assert [[repr(r[k]) for k in keep] for r in resumed.history()] == \
        [[repr(r[k]) for k in keep] for r in straight.history()]
    for a, b in zip(resumed.model().state_dict().values(), straight.model().state_dict().values(), strict=True):
        assert torch.equal(a, b)


def test_a_different_run_in_the_same_folder_is_refused(tmp_path):
    tiny_train(tmp_path, max_trials=16)
    with pytest.raises(ValueError, match="different run"):
        tiny_train(tmp_path, max_trials=16, seed=1)


def test_a_finished_run_is_not_trained_again(tmp_path):
    easy = Criterion("percent_correct", ">=", 0.0, window=1)
    run = tiny_train(tmp_path, criterion=easy)
    metrics = run.metrics
    assert metrics["criterion_met"] and metrics["trials_to_criterion"] == 0 and metrics["updates_to_criterion"] == 0
    again = tiny_train(tmp_path, criterion=easy)
    assert again.metrics == metrics


def test_continuous_output_task_with_an_rmse_criterion(tmp_path):
    run = tiny_train(tmp_path, task="FlipFlop-v0", max_trials=32, settings={**TINY, "validation_every": 32})
    assert run.metrics["criterion"] == "rmse <= 0.1"
    rows = run.history()
    assert len(rows) == 2 and all(math.isfinite(r["rmse"]) for r in rows)
    assert run.metrics["best"]["value"] == min(r["rmse"] for r in rows)


@pytest.mark.parametrize("task_id", neurotasks.list_tasks())
def test_every_task_trains(tmp_path, task_id):
    if not getattr(neurotasks.make_task(task_id), "supervised_target", True):
        with pytest.raises(ValueError, match="has no supervised target"):
            tiny_train(tmp_path, task=task_id, max_trials=8)
        assert not any(tmp_path.iterdir())                              # refused before writing
        return
    run = tiny_train(tmp_path, task=task_id, max_trials=8,
                     settings={"batch_size": 8, "validation_every": 8, "validation_trials": 8})
    assert len(run.history()) == 2
    assert run.config["criterion"]["metric"] in run.history()[0]


def test_errors_of_train(tmp_path):
    with pytest.raises(ValueError, match="unknown task id"):
        agents.train("Nope-v0", out=tmp_path / "a")
    with pytest.raises(TypeError, match="unknown argument"):
        agents.train("PerceptualDecision-v0", task_kwargs={"colour": 1}, out=tmp_path / "a")
    with pytest.raises(ValueError, match="max_trials"):
        agents.train("PerceptualDecision-v0", out=tmp_path / "a", max_trials=0)
    with pytest.raises(ValueError, match="unknown trainer setting"):
        agents.train("PerceptualDecision-v0", out=tmp_path / "a", settings={"lr": 1})


def test_corrupt_checkpoint_is_reported(tmp_path):
    run = tiny_train(tmp_path, max_trials=16)
    (run.path / "checkpoint.safetensors").write_bytes(b"not a checkpoint")
    with pytest.raises(ValueError, match=r"checkpoint\.safetensors is corrupt"):
        tiny_train(tmp_path, max_trials=32)


# ---------------------------------------------------------------------- the command line
def test_cli_train_and_resume(tmp_path, capsys):
    from agents.cli import main

    out = tmp_path / "cli"
    args = ["train", "PerceptualDecision-v0", "stimulus=\"fixed\"", "--out", str(out), "--n-units", "12",
            "--max-trials", "20", "--no-figures"]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert f"run folder: {out}" in text and "final validation: " in text and "not met" in text
    assert RunDir(out).config["task"]["kwargs"] == {"stimulus": "fixed"}
    assert main([*args[:-3], "--max-trials", "40", "--no-figures"]) == 0
    assert "resuming" in capsys.readouterr().out


@pytest.mark.parametrize(("argv", "match"), [
    (["train", "Nope-v0"], "unknown task id"),
    (["train", "PerceptualDecision-v0", "colour=1"], "unknown argument"),
    (["train", "PerceptualDecision-v0", "stimulus=sideways"], "stimulus"),
    (["train", "PerceptualDecision-v0", "oops"], "key=value"),
    (["train", "PerceptualDecision-v0", "--preset", "slow"], "unknown preset"),
])
def test_cli_errors_exit_2_with_one_line(argv, match, capsys):
    from agents.cli import main

    assert main(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and match in err


@pytest.mark.skipif(torch.cuda.is_available(), reason="only meaningful without CUDA")
def test_cli_cuda_without_cuda(capsys):
    from agents.cli import main

    assert main(["train", "PerceptualDecision-v0", "--device", "cuda"]) == 2
    assert "CUDA is not available" in capsys.readouterr().err


# ---------------------------------------------------------------------- CI-sized training
@pytest.mark.slow
def test_small_network_learns_perceptual_decision(tmp_path):
    """A 50-unit E/I network reaches a lowered criterion quickly (the full one takes ~15-60 s: see the README)."""
    run = agents.train("PerceptualDecision-v0", out=tmp_path / "ci", n_units=50, quiet=True, figures=False,
                       criterion=Criterion("percent_correct", ">", 75.0, window=2), max_minutes=1.5,
                       settings={"validation_trials": 200})
    metrics = run.metrics
    assert metrics["criterion_met"], metrics
    assert metrics["final"]["percent_correct"] > 65
    outputs, _ = agents.simulate(run.model(), run.task().trials(50, 0, catch=False), seed=0)
    assert outputs.shape[-1] == 2


@pytest.mark.parametrize("op", [">", "<"])
def test_among_equal_validations_the_best_is_the_latest(op):
    """Every kind of run (networks, ei-reinforce, SB3 agents) keeps its best by this rule: the latest of equally
    good validations, the longest-trained network."""
    from agents.runs import keeps_as_best
    from neurotasks.criterion import Criterion

    criterion = Criterion("score", op, 1.0)
    better, worse = (2.0, 0.5) if op == ">" else (0.5, 2.0)
    assert keeps_as_best(criterion, 1.0, None) and not keeps_as_best(criterion, float("nan"), None)
    assert keeps_as_best(criterion, 1.0, {"value": 1.0})
    assert keeps_as_best(criterion, better, {"value": 1.0}) and not keeps_as_best(criterion, worse, {"value": 1.0})
