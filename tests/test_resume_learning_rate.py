"""A resumed run may continue at a learning rate of its own (a fine-tuning phase), and at nothing else new."""

from __future__ import annotations

import pytest

import agents
from agents import runs
from agents.cli import main
from tests.test_run_safety import _history
from tests.test_train_models import TASK, TINY, _train_cli, tiny


def _rates(run: runs.RunDir) -> dict[int, float]:
    return {int(row["trials"]): float(row["lr"]) for row in run.history()}


def test_a_resumed_run_continues_at_the_learning_rate_asked_for_and_keeps_it(tmp_path):
    tiny(tmp_path, "rnn", "run", max_trials=64)
    first = _rates(runs.RunDir(tmp_path / "run"))
    assert set(first.values()) == {0.01}, first
    slower = tiny(tmp_path, "rnn", "run", max_trials=128, settings={**TINY, "learning_rate": 1e-4})
    rates = _rates(slower)
    assert {t: r for t, r in rates.items() if t <= 64} == first, "the history before the change is kept"
    assert {r for t, r in rates.items() if t > 64} == {1e-4}
    assert slower.config["trainer"]["learning_rate"] == 0.01, "config.json keeps the rate the run started at"
    again = tiny(tmp_path, "rnn", "run", max_trials=192)                 # the first command: the checkpoint's rate
    assert {r for t, r in _rates(again).items() if t > 64} == {1e-4}


def test_the_new_rate_changes_the_training_that_follows(tmp_path):
    tiny(tmp_path, "rnn", "same", max_trials=64)
    tiny(tmp_path, "rnn", "slow", max_trials=64)
    same = tiny(tmp_path, "rnn", "same", max_trials=128)
    slow = tiny(tmp_path, "rnn", "slow", max_trials=128, settings={**TINY, "learning_rate": 1e-5})
    assert _history(same)[:3] == _history(slow)[:3] and _history(same)[3:] != _history(slow)[3:]
    restated = tiny(tmp_path, "rnn", "restated", max_trials=64)
    restated = tiny(tmp_path, "rnn", "restated", max_trials=128, settings={**TINY, "learning_rate": 0.01})
    assert _history(restated) == _history(same), "asking for the rate it has is the plain resume"


def test_any_other_new_setting_is_still_a_different_run(tmp_path):
    tiny(tmp_path, "rnn", "run", max_trials=32)
    with pytest.raises(ValueError, match=r"holds a different run \(differs in trainer\)"):
        tiny(tmp_path, "rnn", "run", max_trials=64, settings={**TINY, "learning_rate": 1e-4, "grad_clip": 0.5})


def test_the_cli_resumes_at_a_new_learning_rate_and_says_so(tmp_path, capsys):
    out = tmp_path / "run"
    assert _train_cli("--out", str(out), "--n-units", "8") == 0
    capsys.readouterr()
    assert main(["train", TASK, "--out", str(out), "--max-trials", "64", "--no-figures", "--n-units", "8",
                 "--learning-rate", "0.0003"]) == 0
    printed = capsys.readouterr().out
    assert "learning rate 0.01 -> 0.0003 from update" in printed, printed


@pytest.mark.parametrize(("argv", "match"), [
    (["--learning-rate", "0"], "--learning-rate must be > 0, got 0"),
    (["--learning-rate=-1e-3"], "--learning-rate must be > 0, got -0.001"),
    (["--agent", "ppo", "--learning-rate", "1e-3"],
     "--learning-rate with --agent ppo: an agent's learning rate is a hyperparameter (--hyperparam learning_rate=...)"),
])
def test_a_bad_learning_rate_exits_2_naming_the_flag(tmp_path, capsys, argv, match):
    out = tmp_path / "run"
    assert _train_cli("--out", str(out), *argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and match in err, err
    assert not out.exists(), "nothing written"


def test_a_new_run_at_a_given_learning_rate_records_it(tmp_path):
    run = agents.train(TASK, model="rnn", n_units=8, settings={**TINY, "learning_rate": 2e-3}, out=tmp_path / "r",
                       quiet=True, figures=False, max_trials=32)
    assert run.config["trainer"]["learning_rate"] == 2e-3 and set(_rates(run).values()) == {2e-3}
