"""Yang et al. (2019)'s 20 tasks: the paper's coding, timing, noise, answers and 36-degree criterion.

Numbers from Yang, Joglekar, Song, Newsome & Wang (2019) Nat Neurosci, Methods, and their code
(github.com/gyyang/multitask, task.py 'random' mode, network.py get_perf / popvec).
"""

from __future__ import annotations

import gymnasium as gym
import numpy as np
import pytest

import neurotasks
from neurotasks.tasks.yang19 import RULE_INPUTS, SPECS, TASK_IDS
from neurotasks.tasks.yang19_ring import (
    PREFERRED,
    TOLERANCE,
    circular_distance,
    population_vector,
    ring_bump,
    yang19_loss_weights,
)

PAPER_NAMES = ["Go", "RT Go", "Dly Go", "Anti", "RT Anti", "Dly Anti", "DM 1", "DM 2", "Ctx DM 1", "Ctx DM 2",
               "MultSen DM", "Dly DM 1", "Dly DM 2", "Ctx Dly DM 1", "Ctx Dly DM 2", "MultSen Dly DM", "DMS", "DNMS",
               "DMC", "DNMC"]
DT = 20.0


def make(name: str, **kwargs) -> neurotasks.Task:
    return neurotasks.make_task(TASK_IDS[PAPER_NAMES.index(name)], **kwargs)


def quiet(name: str, **kwargs) -> neurotasks.Task:
    return make(name, input_noise=0.0, **kwargs)


def ms(batch, period: str) -> np.ndarray:
    span = batch.periods[period]
    return (span[:, 1] - span[:, 0]) * batch.dt


# ---------------------------------------------------------------------- the family
def test_twenty_tasks_in_the_papers_order_with_shared_channels():
    assert [s.name for s in SPECS] == PAPER_NAMES
    assert len(set(TASK_IDS)) == 20 and set(TASK_IDS) <= set(neurotasks.list_tasks(tag="yang19"))
    for task_id in TASK_IDS:
        task = neurotasks.make_task(task_id)
        assert len(task.input_names) == 1 + 2 * 32 + 20 == 85
        assert len(task.output_names) == 1 + 32 == 33
        assert task.input_names[0] == "fixation" and task.output_names[0] == "fixation"
        env = gym.make(task_id)
        assert env.action_space == gym.spaces.Discrete(33)
        assert task.suggested_network["n_units"] == 256


def test_the_rule_input_is_on_for_the_whole_trial_and_only_its_own():
    for k, task_id in enumerate(TASK_IDS):
        task = neurotasks.make_task(task_id, input_noise=0.0)
        batch = task.trials(8, k)
        rules = batch.inputs[:, :, -20:]
        valid = batch.valid
        assert task.input_names[-20:] == RULE_INPUTS
        np.testing.assert_array_equal(rules[valid][:, k], 1.0)
        assert np.all(np.delete(rules, k, axis=2) == 0)


# ---------------------------------------------------------------------- coding
def test_ring_tuning_is_a_gaussian_of_width_pi_over_8_peaking_at_0_8():
    assert PREFERRED.shape == (32,) and PREFERRED[1] == pytest.approx(2 * np.pi / 32)
    bump = ring_bump(np.array([PREFERRED[5]]))[0]
    assert bump[5] == pytest.approx(0.8)
    # a neighbour is pi/16 away: 0.8 exp(-(pi/16)^2 / (2 (pi/8)^2)) = 0.8 exp(-1/8)
    assert bump[4] == pytest.approx(0.8 * np.exp(-1 / 8)) and bump[6] == pytest.approx(0.8 * np.exp(-1 / 8))
    # periodic: unit 31 is a neighbour of unit 0
    wrap = ring_bump(np.array([0.0]))[0]
    assert wrap[31] == pytest.approx(wrap[1])
    assert population_vector(ring_bump(np.array([1.234]))) == pytest.approx([1.234], abs=1e-6)


def test_go_stimulus_is_coded_on_its_modality_and_fixation_input_goes_off_at_go():
    task = quiet("Go")
    batch = task.trials(40, 1)
    p = batch.params
    for i in range(len(batch)):
        stim, go = batch.periods["stimulus"][i], batch.periods["go"][i]
        m = p["modality_1"][i]
        ring = batch.inputs[i, stim[0], 1 + 32 * (m - 1):1 + 32 * m]
        np.testing.assert_allclose(ring, ring_bump(np.array([p["direction_1"][i]]))[0], atol=1e-6)
        assert np.all(batch.inputs[i, stim[0]:go[1], 1 + 32 * (2 - m):1 + 32 * (3 - m)] == 0)   # other modality
        # Go: the stimulus stays on through the go period; fixation input 1 until the go cue, then 0
        np.testing.assert_allclose(batch.inputs[i, go[1] - 1, 1 + 32 * (m - 1):1 + 32 * m], ring, atol=1e-6)
        assert np.all(batch.inputs[i, :go[0], 0] == 1) and np.all(batch.inputs[i, go[0]:go[1], 0] == 0)
        assert np.all(batch.inputs[i, :stim[0], 1:65] == 0)


def test_targets_fixation_0_8_then_a_0_8_bump_on_a_0_05_baseline():
    task = quiet("Dly Anti")
    batch = task.trials(20, 2)
    for i in range(len(batch)):
        go = batch.periods["go"][i]
        np.testing.assert_allclose(batch.targets[i, :go[0], 0], 0.8)
        np.testing.assert_allclose(batch.targets[i, :go[0], 1:], 0.05)
        np.testing.assert_allclose(batch.targets[i, go[0]:go[1], 0], 0.05)
        want = 0.05 + ring_bump(np.array([(batch.params["direction_1"][i] + np.pi) % (2 * np.pi)]))[0]
        np.testing.assert_allclose(batch.targets[i, go[0], 1:], want, atol=1e-6)
        assert batch.gt[i, go[0]] == 1 + batch.params["ground_truth"][i] and np.all(batch.gt[i, :go[0]] == 0)


def test_the_mask_skips_the_first_100_ms_and_100_ms_after_the_go_cue():
    for name in ("Go", "RT Go", "Dly DM 1", "DMS"):
        batch = make(name).trials(16, 3)
        for i in range(len(batch)):
            go0, length = batch.periods["go"][i, 0], batch.lengths[i]
            m = batch.mask[i, :, 0]
            assert np.all(m[:5] == 0) and np.all(m[5:go0] == 1)          # 100 ms = 5 steps at dt 20
            assert np.all(m[go0:go0 + 5] == 0) and np.all(m[go0 + 5:length] == 1)
            assert np.all(batch.mask[i] == m[:, None])                      # the same on every output


def test_loss_weights_are_1_before_the_go_cue_5_after_and_twice_on_fixation():
    batch = make("Dly Go").trials(8, 4)
    w = yang19_loss_weights(batch)
    for i in range(len(batch)):
        go0, length = batch.periods["go"][i, 0], batch.lengths[i]
        np.testing.assert_array_equal(w[i, 5:go0, 1:], 1.0)
        np.testing.assert_array_equal(w[i, 5:go0, 0], 2.0)
        np.testing.assert_array_equal(w[i, go0 + 5:length, 1:], 5.0)
        np.testing.assert_array_equal(w[i, go0 + 5:length, 0], 10.0)
        assert np.all(w[i, :5] == 0) and np.all(w[i, go0:go0 + 5] == 0) and np.all(w[i, length:] == 0)


def test_input_noise_has_sd_0_01_sqrt_2_over_alpha():
    """Yang: sigma_x = 0.01 sqrt(2 / alpha), alpha = dt / tau = 0.2: a per-step sd of 0.0316 on every input."""
    noisy, clean = make("DM 1").trials(64, 5), quiet("DM 1").trials(64, 5)
    noise = (noisy.inputs - clean.inputs)[noisy.valid]
    assert noise.std() == pytest.approx(0.01 * np.sqrt(2 / 0.2), rel=0.02)
    assert noise[:, -20:].std() == pytest.approx(0.0316, rel=0.05)      # the rule inputs are noisy too
    assert noisy.inputs.min() < 0                                      # not rectified


# ---------------------------------------------------------------------- timing
def choices(batch, period):
    return set(np.round(ms(batch, period)).astype(int).tolist())


@pytest.mark.parametrize(("name", "period", "values"), [
    ("Dly Go", "fixation", {300, 500, 700}), ("Dly Go", "stimulus", {200, 400, 600}),
    ("Dly Go", "delay", {200, 400, 800, 1600}), ("Dly Go", "go", {500}),
    ("DM 1", "stimulus", {400, 800, 1600}), ("DM 2", "go", {500}),
    ("Dly DM 1", "stimulus_1", {200, 400, 600}), ("Dly DM 1", "delay_1", {200, 400, 800, 1600}),
    ("Dly DM 1", "stimulus_2", {200, 400, 600}), ("Ctx Dly DM 2", "fixation", {200, 400, 600}),
    ("DMS", "delay", {200, 400, 800, 1600}), ("DMS", "go", {500}), ("DNMC", "go", {200, 400, 600}),
    ("Go", "go", {500}), ("RT Anti", "go", {500})])
def test_period_durations_take_the_papers_values(name, period, values):
    assert choices(make(name).trials(600, 6), period) == values


@pytest.mark.parametrize(("name", "period", "low", "high"), [
    ("Go", "fixation", 300, 700), ("Go", "stimulus", 500, 1500), ("RT Go", "fixation", 500, 2500),
    ("DM 1", "fixation", 100, 400), ("MultSen Dly DM", "delay_2", 100, 300)])
def test_uniform_durations_span_the_papers_range(name, period, low, high):
    d = ms(make(name).trials(2000, 7), period)
    assert d.min() >= low and d.max() <= high
    assert d.min() < low + 0.1 * (high - low) and d.max() > high - 0.1 * (high - low)


def test_timing_overrides_a_period_and_unknown_periods_are_refused():
    batch = make("Dly Go", timing={"delay": 1000.0}).trials(10, 0)
    assert choices(batch, "delay") == {1000}
    with pytest.raises(ValueError, match="timing has unknown period"):
        make("Dly Go", timing={"delay_2": 100.0})
    with pytest.raises(ValueError, match=r"timing\['go'\]"):
        make("Go", timing={"go": -5.0})


# ---------------------------------------------------------------------- stimuli and answers
def test_anti_tasks_answer_opposite_and_go_tasks_at_the_stimulus():
    for name, shift in (("Go", 0.0), ("RT Go", 0.0), ("Anti", np.pi), ("RT Anti", np.pi), ("Dly Anti", np.pi)):
        p = make(name).trials(50, 8).params
        np.testing.assert_allclose(circular_distance(p["response_direction"], p["direction_1"] + shift), 0, atol=1e-9)
        assert p["go"].all()


def test_decision_stimuli_statistics():
    p = make("DM 1").trials(4000, 9).params
    sep = circular_distance(p["direction_1"], p["direction_2"])
    assert sep.min() >= np.pi / 2 - 1e-9                      # 90 to 270 degrees apart
    mean = (p["strength_1_mod1"] + p["strength_2_mod1"]) / 2
    coherence = np.abs(p["strength_1_mod1"] - p["strength_2_mod1"]) / 2
    assert mean.min() >= 0.8 and mean.max() <= 1.2
    assert set(np.round(coherence, 6)) == {0.01, 0.02, 0.04, 0.08}
    assert np.all(p["strength_1_mod2"] == 0) and np.all(p["strength_2_mod2"] == 0)     # modality 1 only
    delayed = make("Dly DM 2").trials(2000, 9).params
    assert set(np.round(np.abs(delayed["strength_1_mod2"] - delayed["strength_2_mod2"]) / 2, 6)) == {0.08, 0.16, 0.32}
    assert np.all(delayed["strength_1_mod1"] == 0)


def test_multisensory_strengths_split_unevenly_between_modalities():
    p = make("MultSen DM").trials(4000, 10).params
    for s in (1, 2):
        a, b = p[f"strength_{s}_mod1"], p[f"strength_{s}_mod2"]
        share = np.abs(a - b) / (a + b)                  # (s d/2) / s with d uniform on [0.2, 0.8]
        assert share.min() >= 0.1 - 1e-9 and share.max() <= 0.4 + 1e-9


def test_the_answer_is_the_stronger_stimulus_in_the_attended_modality():
    both = dict(direction_1=0.0, separation=np.pi)
    # modality 1 says stimulus 1, modality 2 says stimulus 2 (more strongly)
    forced = dict(strength_1_mod1=1.1, strength_2_mod1=0.9, strength_1_mod2=0.5, strength_2_mod2=1.5, **both)
    assert make("Ctx DM 1").trials(1, 0, **forced).params["response_direction"][0] == 0.0
    assert make("Ctx DM 2").trials(1, 0, **forced).params["response_direction"][0] == pytest.approx(np.pi)
    assert make("MultSen DM").trials(1, 0, **forced).params["response_direction"][0] == pytest.approx(np.pi)
    assert make("Ctx Dly DM 1").trials(1, 0, **forced).params["ground_truth"][0] == 0
    assert make("Ctx Dly DM 2").trials(1, 0, **forced).params["ground_truth"][0] == 16


def test_context_tasks_show_both_modalities_and_dm_tasks_one():
    forced = dict(strength_1_mod1=1.1, strength_2_mod1=0.9, strength_1_mod2=0.5, strength_2_mod2=1.5,
                  direction_1=0.0, separation=np.pi)
    batch = quiet("Ctx DM 1").trials(1, 0, **forced)
    t = batch.periods["stimulus"][0, 0]
    np.testing.assert_allclose(batch.inputs[0, t, 1], 0.8 * 1.1, rtol=1e-5)        # modality 1, unit 0
    np.testing.assert_allclose(batch.inputs[0, t, 1 + 32 + 16], 0.8 * 1.5, rtol=1e-5)   # modality 2, unit 16
    dm = quiet("Dly DM 1").trials(1, 0, direction_1=0.0, separation=np.pi, strength_1_mod1=1.2,
                                  strength_2_mod1=0.8, strength_1_mod2=0.0, strength_2_mod2=0.0)
    s1, s2 = dm.periods["stimulus_1"][0], dm.periods["stimulus_2"][0]
    assert dm.inputs[0, s1[0], 1] == pytest.approx(0.96) and dm.inputs[0, s1[0], 17] == pytest.approx(0.0, abs=1e-3)
    assert dm.inputs[0, s2[0], 17] == pytest.approx(0.64) and dm.inputs[0, s2[0], 1] == pytest.approx(0.0, abs=1e-3)
    assert np.all(dm.inputs[0, s1[1]:s2[0], 1:65] == 0)                             # nothing in the delay


def test_match_tasks_go_or_withhold():
    dms = make("DMS").trials(400, 11).params
    np.testing.assert_array_equal(dms["go"], dms["match"] == 1)
    same = circular_distance(dms["direction_1"], dms["direction_2"])
    assert np.all(same[dms["match"] == 1] < 1e-9) and same[dms["match"] == 0].min() >= np.pi / 9 - 1e-9
    dnms = make("DNMS").trials(400, 11).params
    np.testing.assert_array_equal(dnms["go"], dnms["match"] == 0)
    assert np.all(np.isnan(dnms["response_direction"][~dnms["go"]])) and np.all(dnms["ground_truth"][~dnms["go"]] == -1)
    dmc = make("DMC").trials(400, 12).params
    assert set(np.round(dmc["direction_1"] / np.pi, 6)) == {0.1, 0.3, 0.5, 0.7, 0.9, 1.1, 1.3, 1.5, 1.7, 1.9}
    np.testing.assert_array_equal(dmc["match"], (dmc["direction_1"] < np.pi) == (dmc["direction_2"] < np.pi))
    np.testing.assert_array_equal(make("DNMC").trials(400, 12).params["go"], dmc["match"] == 0)


def test_no_go_trials_want_fixation_to_the_end_and_the_test_stimulus_is_shown():
    batch = quiet("DMS").trials(1, 0, match=0, direction_1=1.0, offset=2.0, modality_1=1, modality_2=2)
    go = batch.periods["go"][0]
    np.testing.assert_allclose(batch.targets[0, :, 0], 0.8)
    np.testing.assert_allclose(batch.targets[0, :, 1:], 0.05)
    assert np.all(batch.gt[0] == 0) and np.all(batch.inputs[0, :, 0] == 1)
    np.testing.assert_allclose(batch.inputs[0, go[0], 33:65], ring_bump(np.array([3.0]))[0], atol=1e-6)


def test_derived_parameters_cannot_be_forced():
    with pytest.raises(ValueError, match="direction_2 is derived"):
        make("DMS").trials(2, 0, direction_2=1.0)
    with pytest.raises(ValueError, match="match is derived"):
        make("DMC").trials(2, 0, match=1)
    with pytest.raises(ValueError, match="strength_1_mod1"):
        make("DM 1").trials(2, 0, strength_1_mod1=-1.0)
    with pytest.raises(ValueError, match="coherences is only an argument of the decision tasks"):
        make("Go", coherences=[0.1])
    assert make("DM 1", coherences=[0.5]).trials(50, 0).params["strength_1_mod1"].std() > 0


# ---------------------------------------------------------------------- the 36-degree criterion
def rotated_outputs(batch, delta: float) -> np.ndarray:
    """Outputs equal to the targets with the response bump turned by ``delta`` radians."""
    out = batch.targets.copy()
    go = batch.periods["go"]
    for i in range(len(batch)):
        bump = 0.05 + ring_bump(np.array([batch.params["response_direction"][i] + delta]))[0]
        out[i, go[i, 0]:go[i, 1], 1:] = bump
    return out


@pytest.mark.parametrize("name", ["Go", "RT Anti", "Ctx DM 2", "MultSen Dly DM"])
def test_a_response_within_36_degrees_is_correct_and_beyond_is_not(name):
    task = make(name)
    batch = task.trials(64, 13)
    assert np.all(task.evaluate(batch, outputs=batch.targets)["correct"] == 1)
    assert np.all(task.evaluate(batch, outputs=rotated_outputs(batch, np.deg2rad(35)))["correct"] == 1)
    assert np.all(task.evaluate(batch, outputs=rotated_outputs(batch, -np.deg2rad(35)))["correct"] == 1)
    assert np.all(task.evaluate(batch, outputs=rotated_outputs(batch, np.deg2rad(37)))["correct"] == 0)
    held = batch.targets.copy()
    held[:, :, 0] = 0.8                                   # still fixating at the end: wrong
    assert np.all(task.evaluate(batch, outputs=held)["correct"] == 0)
    assert TOLERANCE == pytest.approx(np.deg2rad(36))


def test_only_the_last_step_counts_and_no_go_trials_must_keep_fixating():
    task = make("DNMS")
    batch = task.trials(200, 14)
    go = batch.params["go"]
    assert 0 < go.mean() < 1
    result = task.evaluate(batch, outputs=batch.targets)
    assert np.all(result["correct"] == 1) and np.all(result["choice"][~go] == -1)
    broke = batch.targets.copy()
    broke[np.arange(len(batch)), batch.lengths - 1, 0] = 0.3              # breaks fixation at the last step
    assert np.all(task.evaluate(batch, outputs=broke)["correct"][~go] == 0)
    early = batch.targets.copy()
    early[:, :3, 0] = 0.0                                                  # ignored: not the last step
    assert np.all(task.evaluate(batch, outputs=early)["correct"] == 1)


def test_saccades_are_rewarded_within_36_degrees():
    env = gym.make(TASK_IDS[0])                                            # Go
    for offset, reward in ((3, 1.0), (-3, 1.0), (4, 0.0)):                 # 3 units = 33.75 deg, 4 = 45 deg
        env.reset(seed=20)
        trial = env.unwrapped.trial
        go0 = trial["periods"]["go"][0]
        target = trial["params"]["ground_truth"]
        total = sum(env.step(0)[1] for _ in range(go0))
        _, r, terminated, _, info = env.step(1 + (target + offset) % 32)
        assert terminated and r + total == reward and info["correct"] == reward


def test_an_early_saccade_aborts_and_withholding_on_no_go_is_rewarded():
    env = gym.make(TASK_IDS[PAPER_NAMES.index("DMS")])
    env.reset(seed=0)
    _, r, terminated, _, info = env.step(5)
    assert terminated and r == -0.1 and info["aborted"]
    for seed in range(20):
        env.reset(seed=seed)
        if not env.unwrapped.trial["params"]["go"]:
            break
    total, terminated = 0.0, False
    while not terminated:
        _, r, terminated, _, info = env.step(0)
        total += r
    assert total == 1.0 and info["correct"] == 1.0
