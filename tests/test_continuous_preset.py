"""The continuous preset: pycog's no-reset protocol (examples/models/lee.py ``mode = 'continuous'``)."""

from __future__ import annotations

import pytest
import torch
from safetensors.torch import load_file

import agents
from agents.models.eirnn import EIRNN
from agents.training.presets import PRESETS, TrainerSettings, preset
from agents.training.trainer import UpdateStep, make_optimizer

TASK = "SequenceExecution-v0"
SMALL = {"validation_every": 4, "validation_trials": 16}


def small_run(tmp_path, name="run", **kwargs):
    options = {"preset": "continuous", "n_units": 50, "settings": SMALL, "quiet": True, "figures": False,
               "max_trials": 8}
    options.update(kwargs)
    return agents.train(kwargs.pop("task", TASK), out=tmp_path / name, **options)


def test_the_continuous_preset_is_pycogs_protocol_one_trial_per_update():
    p = PRESETS["continuous"]
    assert p.carry_state and p.batch_size == 1, "pycog: 'In continuous mode, so we're setting n_gradient to 1'"
    pycog = PRESETS["pycog"]
    assert (p.optimizer, p.learning_rate, p.grad_clip, p.lambda_omega) == \
        (pycog.optimizer, pycog.learning_rate, pycog.grad_clip, pycog.lambda_omega)
    assert not PRESETS["fast"].carry_state and not pycog.carry_state
    assert preset("continuous", "rnn").prune_w_min == 0.0, "only eirnn prunes"


def test_carry_state_needs_one_trial_per_update():
    with pytest.raises(ValueError, match="batch_size must be 1"):
        TrainerSettings(carry_state=True, batch_size=20)
    with pytest.raises(ValueError, match="carry_state must be true or false"):
        TrainerSettings(carry_state="yes", batch_size=1)


def test_the_update_keeps_the_state_where_the_trial_ended():
    """UpdateStep's final_state is the network's state after the trial's last step, run on the update's noise."""
    settings = PRESETS["continuous"]
    model = EIRNN(3, 2, n_units=12, seed=0, train_x0=False)
    step = UpdateStep(model, make_optimizer(model, settings), settings, torch.Generator().manual_seed(5))
    inputs, targets, mask = torch.rand(1, 30, 3), torch.rand(1, 30, 2), torch.ones(1, 30, 2)
    with torch.no_grad():
        _, _, trace = model.run_traced(inputs, 20.0, noise=True, generator=torch.Generator().manual_seed(5))
        expected = trace.states[-1].clone()
    assert step(inputs, targets, mask, 20.0)["ok"]
    torch.testing.assert_close(step.final_state, expected, rtol=0, atol=0)
    assert not torch.equal(expected[0], model.x0.detach()), "the trial moved the state"


def test_a_continuous_run_starts_each_trial_where_the_last_ended(tmp_path):
    run = small_run(tmp_path, max_trials=6)
    assert run.config["trainer"]["carry_state"] and run.config["trainer"]["batch_size"] == 1
    assert run.config["model"]["train_x0"] is False, "pycog: x0 is not trained in continuous mode"
    assert [r["trials"] for r in run.history()] == [0, 4]
    initial = EIRNN(**{k: v for k, v in run.config["model"].items() if k != "name"}).x0.detach()
    carried = load_file(run.path / "checkpoint.safetensors")["state/model/x0"]
    assert not torch.equal(carried, initial), "x0 is the carried state, not the initial one"


def test_a_resumed_continuous_run_continues_exactly(tmp_path):
    straight = small_run(tmp_path, "straight", max_trials=12)
    small_run(tmp_path, "stopped", max_trials=5)
    resumed = small_run(tmp_path, "stopped", max_trials=12)
    keep = ("updates", "trials", "loss", "rmse")
    assert [[repr(r.get(k)) for k in keep] for r in resumed.history()] == \
        [[repr(r.get(k)) for k in keep] for r in straight.history()]
    for a, b in zip(resumed.model().state_dict().values(), straight.model().state_dict().values(), strict=True):
        assert torch.equal(a, b)


@pytest.mark.parametrize(("kwargs", "match"), [
    ({"model": "gru"}, "model 'gru' has none"),
    ({"model_args": {"train_x0": True}}, "train_x0=true contradicts carry_state"),
    ({"settings": {**SMALL, "l2_rates": 0.1}}, "no weight or rate penalties"),
    ({"settings": {**SMALL, "batch_size": 4}}, "batch_size must be 1"),
])
def test_errors_of_the_continuous_preset(tmp_path, kwargs, match):
    with pytest.raises(ValueError, match=match):
        small_run(tmp_path, **kwargs)
    assert not (tmp_path / "run").exists(), "refused before anything is written"
