"""The shipped yang19 run folder (examples/yang19-run) still loads and still performs with today's code.

It is the README's measured network: a change to the model, the tasks' coding or the run-folder format
that breaks it, or quietly changes what it computes, shows up here.
"""
import json
from pathlib import Path

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from agents.runs import load, make_run_task  # noqa: E402
from agents.simulation import simulate_outputs  # noqa: E402
from neurotasks.tasks.yang19 import TASK_IDS  # noqa: E402

RUN = Path(__file__).resolve().parents[1] / "examples" / "yang19-run"


def test_the_shipped_run_records_the_readme_s_training():
    metrics = json.loads((RUN / "metrics.json").read_text())
    assert metrics["trials"] == 2_854_400 and metrics["stopped"] == "criterion"
    config = json.loads((RUN / "config.json").read_text())
    assert config["model"]["name"] == "rnn" and config["model"]["n_units"] == 256
    assert config["trainer"]["lambda_omega"] == 0.0


def test_the_shipped_network_still_performs_every_task_but_dnms_above_criterion():
    model = load(RUN)
    task = make_run_task("yang19")
    batch = task.trials(4000, np.random.default_rng(1))          # ~160 trials per task, ~800 for Ctx DM 1, 2
    outputs = simulate_outputs(model, batch, noise=True, seed=1)
    scores = task.score(batch, task.evaluate(batch, outputs=outputs))
    per_task = {t: scores[f"{t}/percent_correct"] for t in TASK_IDS}
    assert scores["percent_correct"] > 95.0
    assert per_task["Yang19DNMS-v0"] > 75.0                       # the one miss: 86 % on 2,048 trials
    # 19 tasks at 92.6-100 % on 2,048 trials each; on ~160 a task near 92 % may dip below 90, not below 85
    assert all(value > 85.0 for t, value in per_task.items() if t != "Yang19DNMS-v0"), per_task
    assert sum(value > 90.0 for value in per_task.values()) >= 17, per_task
