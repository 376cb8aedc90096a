"""``neurotasks evaluate``: key=value task overrides, the per-trial CSV, and the run-folder end to end."""

from __future__ import annotations

import csv
import math

import numpy as np
import pytest

from agents.commands.evaluate import UsageError, parse_overrides, write_trials_csv


def test_overrides_are_python_literals_or_bare_strings():
    parsed = parse_overrides(["stimulus_duration=1500", "coherences=[0,3.2,51.2]", "stimulus=fixed",
                              "catch_prob=0.0", "name='x=y'"])
    assert parsed == {"stimulus_duration": 1500, "coherences": [0, 3.2, 51.2], "stimulus": "fixed",
                      "catch_prob": 0.0, "name": "x=y"}
    for bad in ("novalue", "=3", "two words=1", "--flag"):
        with pytest.raises(UsageError, match="key=value"):
            parse_overrides([bad])


class _Scored:
    """A task whose score is given: how score_lines treats a share and a score that is not one."""

    def __init__(self, scores):
        self.scores = scores

    def score(self, batch, evaluation):
        return self.scores


def test_a_percent_correct_gets_its_trials_and_wilson_interval():
    pytest.importorskip("scipy")
    from agents.commands.evaluate import score_lines

    evaluation = {"correct": np.array([1.0] * 9 + [0.0] + [np.nan] * 2)}
    batch = np.zeros(12)
    lines = score_lines(_Scored({"percent_correct": 90.0, "rmse": 0.5}), batch, evaluation)
    assert lines == ["  percent_correct: 90  (n 10, 95% CI 59.6-98.2)", "  rmse: 0.5"]
    # a score that leaves trials out (catch trials, say) is not that share: no interval is made up
    assert score_lines(_Scored({"percent_correct": 80.0}), batch, evaluation) == ["  percent_correct: 80"]


def test_trials_csv_has_params_then_behaviour(tmp_path):
    params = {"catch": np.array([False, True]), "ground_truth": np.array([0, 1]), "coherence": np.array([6.4, 0.0])}
    evaluation = {"choice": np.array([0, -1]), "correct": np.array([1.0, np.nan]), "rt": np.array([np.nan, 250.0]),
                  "rmse": np.array([0.1, 0.2])}
    path = write_trials_csv(tmp_path / "out" / "trials.csv", params, evaluation)
    rows = list(csv.reader(path.open()))
    assert rows[0] == ["catch", "ground_truth", "coherence", "choice", "correct", "rt", "rmse"]
    assert rows[1] == ["0", "0", "6.4", "0", "1.0", "", "0.1"]
    assert rows[2] == ["1", "1", "0.0", "-1", "", "250.0", "0.2"]
    assert [p.name for p in path.parent.iterdir()] == ["trials.csv"]   # no temp file left behind


# ---------------------------------------------------------------------- end to end (needs the colleague's run folders)
def _cli(*argv: str) -> int:
    from agents.cli import main

    return main(["evaluate", *argv])


@pytest.fixture
def run_dir(tmp_path):
    runs = pytest.importorskip("agents.runs")
    pytest.importorskip("agents.simulation")
    from tests.run_folder import make_untrained_run

    return make_untrained_run(runs, tmp_path / "run")


def test_evaluate_writes_one_row_per_trial_and_fits_the_psychometric_function(run_dir, tmp_path, capsys):
    out = tmp_path / "eval" / "trials.csv"
    code = _cli(str(run_dir), "--trials", "300", "--seed", "3", "--out", str(out), "catch_prob=0.2",
                "coherences=[0,6.4,51.2]")
    assert code == 0
    rows = list(csv.DictReader(out.open()))
    assert len(rows) == 300
    assert list(rows[0])[:6] == ["catch", "ground_truth", "coherence", "choice", "correct", "rt"]
    assert {float(r["coherence"]) for r in rows} <= {0.0, 6.4, 51.2}
    catch = [r for r in rows if r["catch"] == "1"]
    assert catch and all(r["correct"] == "" for r in catch)
    text = capsys.readouterr().out
    assert "percent_correct" in text
    if "psychometric function" in text:                   # an untrained network may never choose
        assert "bias" in text and (out.parent / "psychometric.png").exists()
    # same seed -> same table
    again = tmp_path / "again.csv"
    assert _cli(str(run_dir), "--trials", "300", "--seed", "3", "--out", str(again), "catch_prob=0.2",
                "coherences=[0,6.4,51.2]") == 0
    assert again.read_text() == out.read_text()


def test_evaluate_default_output_and_no_noise(run_dir, capsys):
    assert _cli(str(run_dir), "--trials", "40", "--no-noise") == 0
    rows = list(csv.DictReader((run_dir / "evaluation" / "trials.csv").open()))
    assert len(rows) == 40
    assert all(r["rt"] == "" or math.isfinite(float(r["rt"])) for r in rows)
    assert "no noise" in capsys.readouterr().out


def test_evaluate_errors_are_one_line_with_exit_code_2(run_dir, tmp_path, capsys):
    assert _cli(str(tmp_path / "missing")) == 2
    assert "does not exist" in capsys.readouterr().err
    assert _cli(str(run_dir), "coherences=[500]") == 2
    err = capsys.readouterr().err
    assert "coherences" in err and err.count("\n") == 1
    assert _cli(str(run_dir), "nonsense") == 2
    assert "key=value" in capsys.readouterr().err
    assert _cli(str(run_dir), "no_such_argument=1") == 2
    assert "no_such_argument" in capsys.readouterr().err
    assert _cli(str(run_dir), "stimulus=fixed") == 2            # 2 inputs, the network has 3
    assert "inputs" in capsys.readouterr().err
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "config.json").write_text("{not json")
    assert _cli(str(corrupt)) == 2
    assert "cannot load run folder" in capsys.readouterr().err


# ---------------------------------------------------------------------- a run folder from someone else
def test_non_finite_weights_are_refused_with_exit_code_2(run_dir, capsys):
    from safetensors.torch import load_file, save_file

    weights = load_file(str(run_dir / "model.safetensors"))
    weights["w_rec"][2, 3] = float("nan")
    save_file(weights, str(run_dir / "model.safetensors"))
    assert _cli(str(run_dir), "--trials", "10") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "non-finite weights" in err and "w_rec" in err
    assert not (run_dir / "evaluation").exists()


@pytest.mark.parametrize("link", ["evaluation", "evaluation/trials.csv"])
def test_a_symbolic_link_in_the_run_folder_is_not_written_through(run_dir, tmp_path, capsys, link):
    target = tmp_path / "target"
    target.mkdir()
    (target / "trials.csv").write_text("mine\n")
    if link == "evaluation":
        (run_dir / "evaluation").symlink_to(target, target_is_directory=True)
    else:
        (run_dir / "evaluation").mkdir()
        (run_dir / link).symlink_to(target / "trials.csv")
    assert _cli(str(run_dir), "--trials", "10") == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "symbolic link" in err and str(run_dir / link) in err
    assert [p.name for p in target.iterdir()] == ["trials.csv"] and (target / "trials.csv").read_text() == "mine\n"
    assert _cli(str(run_dir), "--trials", "10", "--out", str(run_dir / link)) == 2


def test_writing_the_run_folder_takes_its_lock(run_dir, tmp_path, capsys):
    import os

    from agents.run_lock import RunLock

    with RunLock(run_dir):
        assert _cli(str(run_dir), "--trials", "10") == 1
        assert f"{run_dir} is in use by process {os.getpid()}" in capsys.readouterr().err
        assert _cli(str(run_dir), "--trials", "10", "--out", str(tmp_path / "elsewhere.csv")) == 0, \
            "a table written elsewhere needs no lock on the run"
    (run_dir / "evaluation").mkdir()
    leftover = run_dir / "evaluation" / ".trials.csv.k1x9.tmp"
    leftover.write_text("half")
    assert _cli(str(run_dir), "--trials", "10") == 0
    assert not leftover.exists(), "a killed evaluation's temporary file is removed"
