"""A named task mixture trained as one task: `neurotasks train yang19` (Yang et al. 2019)."""

from __future__ import annotations

import csv
import re

import numpy as np
import pytest

import agents
import neurotasks
from agents.runs import RunDir
from neurotasks.mixture import TASK_PARAM, TaskMixture
from neurotasks.mixture_task import AT_CRITERION, MixtureTask, make_mixture_task
from neurotasks.tasks.yang19 import TASK_IDS

SMALL = {"validation_trials": 40, "validation_every": 32, "batch_size": 16}


@pytest.fixture(scope="module")
def yang19():
    return make_mixture_task("yang19")


def test_yang19_is_the_papers_twenty_tasks_and_network(yang19):
    assert yang19.id == "yang19" and yang19.ids == tuple(TASK_IDS) and len(yang19.tasks) == 20
    # github.com/gyyang/multitask train.py get_default_hp: n_rnn 256, relu, tau 100, sigma_rec 0.05
    assert yang19.suggested_network == {"n_units": 256, "tau": 100.0, "sigma_rec": 0.05, "nonlinearity": "relu"}
    assert len(yang19.input_names) == 1 + 2 * 32 + 20 and len(yang19.output_names) == 1 + 32
    assert str(yang19.criterion) == "tasks_at_criterion >= 20"
    assert yang19.trainer_defaults["validation_trials"] == 2000, "100 validation trials per task"
    assert yang19.trainer_defaults["lambda_omega"] == 0.0, "Yang's cost has no vanishing-gradient regulariser"


def test_validation_draws_every_task_equally_often(yang19):
    batch = yang19.grid_trials(3, rng=0)
    assert np.bincount(batch.params[TASK_PARAM], minlength=20).tolist() == [3] * 20
    training = yang19.trials(280, rng=0)                   # 18 tasks x 1 + 2 x 5 = 28 shares
    counts = np.bincount(training.params[TASK_PARAM], minlength=20)
    ctx = [TASK_IDS.index("Yang19CtxDM1-v0"), TASK_IDS.index("Yang19CtxDM2-v0")]
    assert counts[ctx].tolist() == [5 * counts[0]] * 2, "training keeps Yang's proportions (Ctx DM x5)"


def test_score_counts_the_tasks_at_their_own_criterion(yang19):
    batch = yang19.grid_trials(4, rng=1)
    perfect = yang19.score(batch, yang19.evaluate(batch, outputs=batch.targets))
    assert perfect[AT_CRITERION] == 20.0 and perfect["min_task_percent_correct"] == 100.0
    broken = batch.targets.copy()
    go = np.flatnonzero(batch.params[TASK_PARAM] == TASK_IDS.index("Yang19Go-v0"))
    broken[go] = 0.0                                   # Go answered with silence: no response, wrong
    scores = yang19.score(batch, yang19.evaluate(batch, outputs=broken))
    assert scores["Yang19Go-v0/percent_correct"] == 0.0 and scores[AT_CRITERION] == 19.0


def test_errors(yang19):
    with pytest.raises(ValueError, match="unknown task mixture 'nope'; known: yang19"):
        make_mixture_task("nope")
    with pytest.raises(TypeError, match="TaskMixture"):
        MixtureTask("x", [neurotasks.make_task("Yang19Go-v0")])
    assert isinstance(yang19.mixture, TaskMixture)


def test_only_the_named_mixture_s_own_trainer_defaults_apply(yang19):
    own = MixtureTask("mine", yang19.mixture)
    assert "lambda_omega" not in own.trainer_defaults, "a user's mixture keeps the preset's regulariser"
    assert own.trainer_defaults["validation_trials"] == 2000
    extra = MixtureTask("mine", yang19.mixture, trainer_defaults={"validation_every": 640})
    assert extra.trainer_defaults == {"validation_trials": 2000, "validation_every": 640}


def test_training_on_the_mixture_writes_a_run_that_resumes_and_loads(tmp_path):
    options = {"model": "rnn", "n_units": 16, "settings": SMALL, "quiet": True, "figures": True}
    run = agents.train("yang19", out=tmp_path / "y", max_trials=32, **options)
    assert run.config["task"] == {"id": "yang19", "kwargs": {}}
    assert run.config["trainer"]["lambda_omega"] == 0.0, "the mixture's trainer default over the preset's 2"
    assert isinstance(RunDir(run.path).task(), MixtureTask)
    row = run.history()[-1]
    assert {AT_CRITERION, "min_task_percent_correct", "Yang19DNMC-v0/percent_correct"} <= set(row)
    assert {p.name for p in run.figures_dir.glob("*.png")} >= {"training_curve.png", "task_curves.png",
                                                                "example_trials.png"}
    resumed = agents.train("yang19", out=tmp_path / "y", max_trials=64, **options)
    assert [r["trials"] for r in resumed.history()] == [0, 32, 64]
    model = agents.load(run.path)
    batch = make_mixture_task("yang19").grid_trials(1, rng=0)
    outputs, _ = agents.simulate(model, batch, seed=0)
    assert outputs.shape == (20, batch.n_steps, 33)


def test_cli_trains_yang19(tmp_path, capsys):
    from agents.cli import main

    out = tmp_path / "cli"
    assert main(["train", "yang19", "--model", "rnn", "--n-units", "12", "--max-trials", "16", "--out", str(out),
                 "--no-figures"]) == 0
    assert "tasks_at_criterion" in capsys.readouterr().out
    assert main(["train", "yang20"]) == 2
    assert "unknown task id" in capsys.readouterr().err
    assert main(["evaluate", str(out), "--trials", "56", "--seed", "1"]) == 0      # 2 of each task, 10 Ctx DM
    printed = capsys.readouterr().out
    assert "56 trials (with noise, seed 1)" in printed and "tasks_at_criterion" in printed, printed
    assert "Yang19DNMC-v0/percent_correct" in printed and "Yang19CtxDM1-v0/percent_correct" in printed
    assert re.search(r"Yang19CtxDM1-v0/percent_correct: \S+  \(n 10, 95% CI \d", printed), printed
    assert re.search(r"Yang19Go-v0/percent_correct: \S+  \(n 2, 95% CI \d", printed), printed
    assert re.search(r"  percent_correct: \S+  \(n 56, 95% CI \d", printed), printed
    with open(out / "evaluation" / "trials.csv") as f:
        tasks = [int(row["task"]) for row in csv.DictReader(f)]
    counts = np.bincount(tasks, minlength=20)
    assert counts[TASK_IDS.index("Yang19CtxDM1-v0")] == 10 and counts[TASK_IDS.index("Yang19Go-v0")] == 2


def test_analyze_clusters_units_by_task_variance_and_lesions_the_clusters(tmp_path):
    import json

    from agents.cli import main
    from agents.report import schema

    run = agents.train("yang19", model="rnn", n_units=16, settings=SMALL, quiet=True, figures=False,
                       out=tmp_path / "y", max_trials=16)
    out = tmp_path / "report"
    assert main(["analyze", str(run.path), "--out", str(out), "--trials", "40", "--quiet"]) == 0
    data = json.loads((out / "report.json").read_text())
    schema.validate(data)
    assert [s["name"] for s in data["sections"]] == ["task_variance"], "the default analyses of a mixture run"
    numbers = data["sections"][0]["numbers"]
    k = numbers["n_clusters"]
    assert 2 <= k < numbers["n_active_units"] <= 16 and sum(numbers["cluster_sizes"]) == numbers["n_active_units"]
    assert set(numbers["lesion_change_percent_correct"]) == {f"cluster {j + 1}" for j in range(k)}
    assert set(numbers["lesion_change_percent_correct"]["cluster 1"]) == set(TASK_IDS)
    assert (out / "figures" / "task_variance.png").is_file()
    single = agents.train("PerceptualDecision-v0", n_units=8, settings=SMALL, quiet=True, figures=False,
                          out=tmp_path / "pd", max_trials=16)
    assert main(["analyze", str(single.path), "--out", str(tmp_path / "r2"), "--only", "task_variance",
                 "--trials", "20", "--quiet"]) == 0
    skipped = json.loads((tmp_path / "r2" / "report.json").read_text())["sections"][0]
    assert skipped["status"] == "skipped" and "task mixture" in skipped["reason"]
