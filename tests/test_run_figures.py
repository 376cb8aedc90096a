"""Run figures: every applicable PNG is written (atomically) for decision, reaction-time and other tasks.

The array-level part runs on a hand-made drift-diffusion "network"; the end-to-end part on a run
folder with an untrained EIRNN (skipped until agents.runs exists).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

import neurotasks
from agents.analysis.psychometric import psychometric_table
from agents.plots.run_figures import analysis_batch, write_figures
from agents.plots.save import new_figure, save_figure

PNG = b"\x89PNG\r\n\x1a\n"


class DriftNet:
    """Unit 0 accumulates evidence for choice 1, unit 1 for choice 2; units 2..9 are noise.
    Units 0-7 excitatory, 8-9 inhibitory."""

    def __init__(self, n_in: int, n_out: int, n_units: int = 10):
        rng = np.random.default_rng(0)
        self.n_units, self.n_exc, self.config = n_units, 8, {}
        self.weights = {"W_in": np.abs(rng.normal(size=(n_units, n_in))), "W_rec": rng.normal(size=(n_units, n_units)),
                        "W_out": np.zeros((n_out, n_units)), "b_rec": np.zeros(n_units), "b_out": np.zeros(n_out),
                        "x0": np.zeros(n_units)}
        self.weights["W_out"][0, 0] = 1.0
        if n_out > 1:
            self.weights["W_out"][1, 1] = 1.0

    def effective_weights(self):
        return {k: v.copy() for k, v in self.weights.items()}


def drift_simulate(model, batch, noise=True, seed=None):
    rng = np.random.default_rng(seed)
    evidence = batch.inputs[:, :, 0] - (batch.inputs[:, :, 1] if batch.inputs.shape[2] > 1 else 0.0)
    if noise:
        evidence = evidence + 0.05 * rng.standard_normal(evidence.shape)
    drive = np.cumsum(evidence, axis=1)
    rates = 0.1 * np.abs(rng.standard_normal((*batch.inputs.shape[:2], model.n_units)))
    rates[:, :, 0] = np.maximum(drive, 0) + 0.1
    rates[:, :, 1] = np.maximum(-drive, 0) + 0.1
    return (0.2 + rates @ model.weights["W_out"].T).astype(np.float32), rates.astype(np.float32)


HISTORY = [{"updates": i, "trials": 20 * i, "wall_s": i, "loss": 1.0 / (i + 1), "percent_correct": 50 + i}
           for i in range(1, 30)]


def _is_png(path: Path) -> bool:
    return path.read_bytes()[:8] == PNG


def test_decision_task_gets_every_figure(tmp_path):
    task = neurotasks.make_task("PerceptualDecision-v0")
    model = DriftNet(len(task.input_names), len(task.output_names))
    paths = write_figures(task, model, HISTORY, tmp_path / "figures", simulate=drift_simulate, repeats=20)
    names = [p.name for p in paths]
    assert names == ["training_curve.png", "psychometric.png", "example_trials.png", "unit_rates.png",
                     "connectivity.png"]
    assert all(_is_png(p) and p.parent == tmp_path / "figures" for p in paths)
    assert not [p for p in (tmp_path / "figures").iterdir() if p.name.startswith(".")]   # no temp files left


def test_reaction_time_task_adds_the_chronometric_function(tmp_path):
    task = neurotasks.make_task("PerceptualDecisionRT-v0")
    model = DriftNet(len(task.input_names), len(task.output_names))
    names = [p.name for p in write_figures(task, model, [], tmp_path, simulate=drift_simulate, repeats=10)]
    assert "chronometric.png" in names and "psychometric.png" in names
    assert "training_curve.png" not in names                                # no history yet


def test_tasks_without_choices_skip_the_decision_figures(tmp_path):
    task = neurotasks.make_task("FlipFlop-v0")
    model = DriftNet(len(task.input_names), len(task.output_names))
    names = [p.name for p in write_figures(task, model, HISTORY, tmp_path, simulate=drift_simulate, max_trials=50)]
    assert names == ["training_curve.png", "example_trials.png", "connectivity.png"]


def test_analysis_batch_covers_every_condition_and_zero_coherence():
    task = neurotasks.make_task("PerceptualDecision-v0")
    batch = analysis_batch(task, repeats=7, rng=0)
    assert not batch.params["catch"].any()
    assert len(batch) == (10 + 2) * 7
    table = psychometric_table(batch, {"choice": np.zeros(len(batch), int)})
    assert table.x.tolist() == [-51.2, -25.6, -12.8, -6.4, -3.2, 0.0, 3.2, 6.4, 12.8, 25.6, 51.2]
    assert table.n.tolist() == [7] * 5 + [14] + [7] * 5
    capped = analysis_batch(neurotasks.make_task("ContextDecision-v0"), repeats=100, rng=0, max_trials=720)
    assert len(capped) == 720                                               # 72 conditions x 10


def test_save_figure_is_atomic_and_replaces(tmp_path):
    target = tmp_path / "sub" / "f.png"
    fig = new_figure()
    fig.add_subplot().plot([0, 1])
    save_figure(fig, target)
    first = target.read_bytes()
    fig.axes[0].plot([1, 0])
    save_figure(fig, target)
    assert _is_png(target) and target.read_bytes() != first
    assert [p.name for p in target.parent.iterdir()] == ["f.png"]


# ---------------------------------------------------------------------- end to end with the real EIRNN
@pytest.fixture
def runs():
    return pytest.importorskip("agents.runs")


def test_write_run_figures_end_to_end(runs, tmp_path):
    from agents.plots.run_figures import write_run_figures
    from tests.run_folder import make_untrained_run

    run_dir = make_untrained_run(runs, tmp_path / "run")
    paths = write_run_figures(run_dir, repeats=10)
    names = {p.name for p in paths}
    assert {"training_curve.png", "example_trials.png", "connectivity.png"} <= names
    assert all(_is_png(p) and p.parent == run_dir / "figures" for p in paths)
    assert json.loads((run_dir / "config.json").read_text())["task"]["id"] == "PerceptualDecision-v0"


def test_write_run_figures_without_history_yet(runs, tmp_path):
    from agents.plots.run_figures import write_run_figures
    from tests.run_folder import make_untrained_run

    run_dir = make_untrained_run(runs, tmp_path / "run", task_id="PerceptualDecisionRT-v0")
    (run_dir / "history.csv").unlink()
    names = {p.name for p in write_run_figures(run_dir, repeats=5)}
    assert "training_curve.png" not in names and "connectivity.png" in names


def test_analysis_batch_of_a_task_without_a_condition_grid_is_ordinary_trials():
    task = neurotasks.make_task("FlipFlop-v0")
    batch = analysis_batch(task, repeats=7, rng=3, max_trials=50)
    expected = task.trials(50, 3)
    assert len(batch) == 50 and np.array_equal(batch.inputs, expected.inputs)
    assert len(analysis_batch(task, rng=3)) == 200


@pytest.mark.parametrize("task_id", neurotasks.list_tasks())
def test_analysis_batch_has_no_catch_trials_for_every_task(task_id):
    """Also where catch is itself a condition of the grid (Bandit-v0's): it was passed twice."""
    task = neurotasks.make_task(task_id)
    batch = analysis_batch(task, repeats=2, max_trials=40)
    assert len(batch) >= 1 and not batch.params["catch"].any()
