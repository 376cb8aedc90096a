"""`neurotasks analyze`: the new analyses on synthetic data with known answers, the report's JSON schema,
end-to-end reports of small networks (untrained and briefly trained, eirnn and gru), and clear errors."""

from __future__ import annotations

import json
import math
from pathlib import Path

import numpy as np
import pytest

import neurotasks
from agents import runs
from agents.analysis.cue_combination import optimal_threshold
from agents.analysis.jpca import fit_jpca
from agents.analysis.psychometric import binomial_interval, chronometric_table, fit_psychometric
from agents.analysis.state_space import regression_subspace
from agents.analysis.tuning import linear_tuning
from agents.report import schema
from agents.report.behaviour import fit_numbers
from agents.report.context_dependence import task_variables
from agents.report.subject import Skip, Subject
from tests.run_folder import make_untrained_run

PNG = b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------- analyses with known answers
def test_jpca_recovers_a_planted_rotation():
    rng = np.random.default_rng(0)
    omega = 0.03                                       # rad per ms
    times = np.arange(0, 300, 10.0)
    phases = np.linspace(0, 2 * np.pi, 8, endpoint=False)
    plane = np.linalg.qr(rng.standard_normal((6, 6)))[0][:, :2]          # the planted plane, in 6 dimensions
    x = np.stack([np.cos(omega * times[None] + phases[:, None]), np.sin(omega * times[None] + phases[:, None])],
                 axis=-1)                                               # (8, T, 2)
    states = x @ plane.T + 1e-3 * rng.standard_normal((8, times.size, 6))
    fit = fit_jpca(states, times)
    assert fit.angular_frequency == pytest.approx(omega, rel=0.02)
    assert fit.r2_skew > 0.99 and fit.r2_full >= fit.r2_skew
    overlap = np.linalg.svd(fit.plane @ plane, compute_uv=False)          # cosines of the principal angles
    assert np.all(overlap > 0.99)
    assert np.allclose(fit.skew, -fit.skew.T)


def test_jpca_of_a_pure_decay_is_not_rotational():
    times = np.arange(0, 200, 10.0)
    starts = np.random.default_rng(1).standard_normal((6, 3))
    states = starts[:, None, :] * np.exp(-times / 50.0)[None, :, None]
    fit = fit_jpca(states, times)
    assert fit.r2_skew < 0.1 < fit.r2_full


def test_jpca_errors():
    with pytest.raises(ValueError, match="states must have shape"):
        fit_jpca(np.zeros((4, 5)), np.arange(5))
    with pytest.raises(ValueError, match="times"):
        fit_jpca(np.ones((2, 5, 3)), np.zeros(5))
    with pytest.raises(ValueError, match="at least 2 dimensions and 3 time points"):
        fit_jpca(np.ones((2, 2, 3)), np.arange(2))


def test_linear_tuning_finds_the_planted_slopes():
    rng = np.random.default_rng(0)
    f1 = np.repeat([10.0, 14.0, 18.0, 22.0, 26.0, 30.0, 34.0], 20)
    slopes = np.zeros((5, 40))
    slopes[:, :10] = 0.05                                  # units 0-9 positively tuned
    slopes[:, 10:20] = -0.05                               # units 10-19 negatively tuned
    slopes[3:, :20] *= -1                                  # ...and every tuned unit flips its sign at step 3
    rates = 1.0 + f1[:, None, None] * slopes[None] + 0.1 * rng.standard_normal((f1.size, 5, 40))
    tuning = linear_tuning(rates, f1)
    assert np.allclose(tuning.slope, slopes, atol=0.01)
    assert np.all(tuning.p_value[:, :20] < 1e-6)                    # every planted unit is significant
    false_positives = float(np.mean(tuning.p_value[:, 20:] < 0.05))  # the untuned ones at about the 5 % rate
    assert 0.0 <= false_positives <= 0.12
    tuned = tuning.fraction_tuned(0.05)
    for sign in ("positive", "negative"):                   # 10 of 40 units each way, plus a few false positives
        assert np.all(tuned[sign] >= 0.25) and np.all(tuned[sign] <= 0.25 + 0.5 * 0.25)
    correlation = tuning.slope_correlation(0)
    assert correlation[0] == pytest.approx(1.0)
    assert correlation[4] < -0.95                           # the flip shows as a negative correlation


def test_linear_tuning_errors():
    with pytest.raises(ValueError, match="rates must have shape"):
        linear_tuning(np.zeros((3, 4)), np.arange(3))
    with pytest.raises(ValueError, match="one value per trial"):
        linear_tuning(np.zeros((3, 4, 2)), np.arange(4))
    with pytest.raises(ValueError, match="two distinct values"):
        linear_tuning(np.zeros((3, 4, 2)), np.ones(3))


def test_optimal_threshold_of_two_cues():
    assert optimal_threshold(1.0, 1.0)[0] == pytest.approx(1 / math.sqrt(2))
    value, se = optimal_threshold(3.0, 4.0, 0.3, 0.4)
    assert value == pytest.approx(2.4)
    # delta method: d/dσ1 = σ2³/(σ1²+σ2²)^1.5 = 64/125, d/dσ2 = 27/125
    assert se == pytest.approx(math.hypot(64 / 125 * 0.3, 27 / 125 * 0.4))
    assert math.isnan(optimal_threshold(3.0, 4.0)[1])
    with pytest.raises(ValueError, match="sigma_2"):
        optimal_threshold(1.0, 0.0)


def test_wilson_interval_known_values():
    low, high = binomial_interval([0, 5, 10], [10, 10, 10])
    assert low[0] == pytest.approx(0.0, abs=1e-12) and high[0] == pytest.approx(0.2775, abs=1e-4)
    assert (low[1], high[1]) == (pytest.approx(0.2366, abs=1e-4), pytest.approx(0.7634, abs=1e-4))
    assert high[2] == pytest.approx(1.0)
    assert np.isnan(binomial_interval(0, 0)[0])
    with pytest.raises(ValueError, match="k <= n"):
        binomial_interval(3, 2)
    with pytest.raises(ValueError, match="level"):
        binomial_interval(1, 2, level=1.0)


def test_psychometric_ci_covers_a_known_threshold():
    rng = np.random.default_rng(3)
    x = np.repeat([-40.0, -20, -10, -5, 0, 5, 10, 20, 40], 400)
    chose = rng.random(x.size) < 0.5 * (1 + np.vectorize(math.erf)((x - 2.0) / (8.0 * math.sqrt(2))))
    numbers = fit_numbers(fit_psychometric(x, chose, lapse=False))
    low, high = numbers["threshold_ci95"]
    assert low < 8.0 < high and high - low < 2.0
    low, high = numbers["bias_ci95"]
    assert low < 2.0 < high


def test_chronometric_table_of_errors():
    params = {"coherence": np.array([6.4, 6.4, 6.4, 51.2, 51.2]), "catch": np.zeros(5, bool)}
    evaluation = {"rt": np.array([300.0, 500.0, 700.0, 200.0, 400.0]), "correct": np.array([1.0, 0, 0, 1, 0])}
    errors = chronometric_table(params, evaluation, outcome="error")
    assert errors.x.tolist() == [6.4, 51.2] and errors.mean_rt.tolist() == [600.0, 400.0]
    assert chronometric_table(params, evaluation).mean_rt.tolist() == [300.0, 200.0]
    with pytest.raises(ValueError, match="outcome"):
        chronometric_table(params, evaluation, outcome="late")


def test_regression_axes_recover_planted_context_axes():
    """Rates built from ContextDecision trials along four planted orthogonal axes: TDR finds them."""
    task = neurotasks.make_task("ContextDecision-v0")
    batch = task.grid_trials(2, 0, include_catch=False)
    rng = np.random.default_rng(0)
    choice = np.asarray(batch.params["ground_truth"])
    variables, keep = task_variables(batch.params, choice)
    assert keep.all() and set(variables) == {"choice", "motion", "colour", "context"}
    planted = np.linalg.qr(rng.standard_normal((30, 4)))[0].T              # (4, 30) orthonormal
    ramp = np.linspace(0, 1, 12)[None, :, None]
    design = np.stack([variables[k] / np.abs(variables[k]).max() for k in variables], axis=1)   # (B, 4)
    rates = ramp * (design @ planted)[:, None, :] + 0.05 * rng.standard_normal((len(batch), 12, 30))
    subspace = regression_subspace(rates, variables, n_pcs=8, zscore=False)   # z-scoring would reshape the axes
    cosines = np.abs(np.sum(subspace.axes * planted, axis=1))
    assert np.all(cosines > 0.98), cosines
    assert np.all(subspace.t_max == 11)


# ---------------------------------------------------------------------- the report's schema
def _report(**changes):
    data = {"schema": schema.SCHEMA, "schema_version": schema.SCHEMA_VERSION, "created": "2026-01-01T00:00:00+00:00",
            "run": {"path": "/r", "task": {"id": "X-v0", "kwargs": {}}, "model": "eirnn", "agent": False,
                    "metrics": {}},
            "settings": {"trials": 10, "seed": 0, "only": None}, "versions": {},
            "sections": [{"name": "a", "title": "A", "paper_figure": "Fig. 1", "status": "done", "reason": "",
                          "numbers": {}, "figures": [{"file": "figures/a.png", "paper_figure": "Fig. 1",
                                                      "caption": "c"}], "notes": []}]}
    data.update(changes)
    return data


def test_schema_accepts_a_valid_report_and_names_what_is_wrong():
    schema.validate(_report())
    with pytest.raises(ValueError, match="schema_version"):
        schema.validate(_report(schema_version=2))
    with pytest.raises(ValueError, match=r"report has no 'sections'"):
        schema.validate({k: v for k, v in _report().items() if k != "sections"})
    bad = _report()
    bad["sections"][0]["status"] = "maybe"
    with pytest.raises(ValueError, match=r"sections\[0\].status"):
        schema.validate(bad)
    bad = _report()
    bad["sections"][0].update(status="skipped", reason="")
    with pytest.raises(ValueError, match="without a reason"):
        schema.validate(bad)
    bad = _report()
    del bad["sections"][0]["figures"][0]["caption"]
    with pytest.raises(ValueError, match=r"figures\[0\] has no 'caption'"):
        schema.validate(bad)


def test_rl_agents_skip_what_needs_rates():
    subject = Subject(path=Path("."), task=neurotasks.make_task("PerceptualDecision-v0"), model=object(),
                      model_name="ppo", agent=True, config={})
    with pytest.raises(Skip, match="only behavioural analyses"):
        subject.need_rates("choice selectivity")
    with pytest.raises(Skip):
        subject.need_weights("connectivity")


# ---------------------------------------------------------------------- end to end
def _analyze(*argv: str) -> int:
    from agents.cli import main

    return main(["analyze", *argv, "--quiet"])


def _read(out: Path) -> dict:
    data = json.loads((out / "report.json").read_text())
    schema.validate(data)
    for section in data["sections"]:
        for figure in section["figures"]:
            assert (out / figure["file"]).read_bytes()[:8] == PNG
            assert figure["paper_figure"]
    assert (out / "index.md").read_text().startswith("# Report: ")
    return data


@pytest.fixture(scope="module")
def trained_decision(tmp_path_factory):
    """A small network trained briefly on PerceptualDecision (a few seconds; its choices depend on the evidence)."""
    import torch

    import agents

    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        run = agents.train("PerceptualDecision-v0", out=tmp_path_factory.mktemp("runs") / "pd", n_units=40,
                           max_trials=6400, quiet=True, progress=False, figures=False)
    finally:
        torch.set_num_threads(threads)
    return run.path


def test_analyze_a_trained_decision_network(trained_decision, tmp_path, one_torch_thread):
    out = tmp_path / "report"
    assert _analyze(str(trained_decision), "--out", str(out), "--trials", "300") == 0
    data = _read(out)
    sections = {s["name"]: s for s in data["sections"]}
    assert list(sections) == ["psychometric", "duration", "selectivity", "lesions"]
    assert all(s["status"] == "done" for s in sections.values()), [s["reason"] for s in sections.values()]
    fit = sections["psychometric"]["numbers"]["curves"][0]["fit"]
    assert fit["threshold"] > 0 and fit["threshold_ci95"][0] < fit["threshold"] < fit["threshold_ci95"][1]
    assert len(sections["selectivity"]["numbers"]["dprime"]) == 40
    assert sections["psychometric"]["figures"][0]["paper_figure"] == "Song et al. 2016, Fig. 2C"
    assert "intact" in sections["lesions"]["numbers"]["scores"]


def test_analyze_writes_into_the_run_folder_by_default(tmp_path, one_torch_thread):
    run = make_untrained_run(runs, tmp_path / "run", "FlipFlop-v0", n_units=12)
    assert _analyze(str(run), "--trials", "40") == 0
    data = _read(run / "report")
    fixed = next(s for s in data["sections"] if s["name"] == "fixed_points")
    assert fixed["status"] == "done"
    for point in fixed["numbers"]["points"]:
        assert point["speed"] < fixed["numbers"]["slow_q"]
        assert point["stable"] == (max(point["eigenvalues_real"]) < 0)
    assert [s["name"] for s in data["sections"]] == ["fixed_points", "input_noise"]


def test_gated_network_gets_hidden_state_analyses_and_says_what_it_skips(tmp_path, one_torch_thread):
    from agents.models import registry

    task = neurotasks.make_task("PerceptualDecision-v0")
    model = registry.build({"name": "gru", "n_in": len(task.input_names), "n_out": len(task.output_names),
                            "n_units": 8, "seed": 0})
    runs.save_model(tmp_path / "gru", model, {"task": {"id": task.id, "kwargs": {}}})
    out = tmp_path / "report"
    assert _analyze(str(tmp_path / "gru"), "--out", str(out), "--trials", "60",
                    "--only", "selectivity,fixed_points,psychometric") in (0,)
    sections = {s["name"]: s for s in _read(out)["sections"]}
    assert sections["fixed_points"]["numbers"]["discrete_time"] is True
    if sections["selectivity"]["status"] == "done":
        assert any("gated network" in note for note in sections["selectivity"]["notes"])
        assert not sections["selectivity"]["figures"]
    else:
        assert sections["selectivity"]["reason"]


def test_analyze_errors(tmp_path, capsys):
    assert _analyze(str(tmp_path / "missing")) == 2
    assert "does not exist" in capsys.readouterr().err
    run = make_untrained_run(runs, tmp_path / "pd", n_units=8)
    assert _analyze(str(run), "--only", "psychometric,nonsense") == 2
    err = capsys.readouterr().err
    assert "unknown analysis name(s) nonsense" in err and "fixed_points" in err
    assert _analyze(str(run), "--trials", "5") == 2
    assert "--trials must be >= 10" in capsys.readouterr().err
    assert _analyze(str(run), "--only", ",") == 2
    timing = make_untrained_run(runs, tmp_path / "rsg", "ReadySetGo-v0", n_units=8)
    assert _analyze(str(timing)) == 2
    assert "no analysis applies to ReadySetGo-v0 by default; choose some with --only" in capsys.readouterr().err
    (run / runs.CONFIG).write_text("{not json")
    assert _analyze(str(run)) == 2
    assert "cannot load run folder" in capsys.readouterr().err


def test_analyses_that_do_not_fit_are_skipped_with_a_reason(tmp_path, one_torch_thread):
    run = make_untrained_run(runs, tmp_path / "msi", "MultisensoryIntegration-v0", n_units=10)
    out = tmp_path / "report"
    assert _analyze(str(run), "--out", str(out), "--trials", "60", "--only", "chronometric,sequences,jpca,tdr") == 0
    sections = _read(out)["sections"]
    assert [s["status"] for s in sections] == ["skipped"] * 4
    assert "not a reaction-time task" in sections[0]["reason"]
    assert "Not in this report" in (out / "index.md").read_text()


def test_multisensory_thresholds_are_fitted_on_rates_between_the_trained_ones(tmp_path, one_torch_thread):
    """A network sharper than the trained 1 event/s grid jumps from 0 to 100 % between two trained rates; the
    section tests rates 4x as dense over the same range (the boundary left out) so its threshold can be fitted."""
    run = make_untrained_run(runs, tmp_path / "msi", "MultisensoryIntegration-v0", n_units=10)
    out = tmp_path / "report"
    assert _analyze(str(run), "--out", str(out), "--trials", "60", "--only", "multisensory") == 0
    section = _read(out)["sections"][0]
    assert section["status"] == "done" and section["numbers"]["rates_per_trained_step"] == 4
    rates = np.asarray(section["numbers"]["modalities"]["visual"]["rate"])
    assert np.allclose(rates, np.setdiff1d(np.linspace(9, 16, 29), [12.5]))
    assert section["numbers"]["n_trials"] >= 3 * 60
