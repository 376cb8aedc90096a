"""SequenceExecution-v0: dots, sequences, inputs per period, targets, fixation aborts, env checks."""

import itertools

import numpy as np
import pytest

import neurotasks
from neurotasks.env import TaskEnv
from neurotasks.tasks.sequence_execution import OPTIONS, SEQUENCES, dot_position

TASK_ID = "SequenceExecution-v0"


def clean_task(**kwargs):
    """No baseline, no noise: inputs are exactly the signal."""
    return neurotasks.make_task(TASK_ID, input_noise=0.0, input_baseline=0.0, **kwargs)


def test_dot_coordinates_row_by_row_from_top_left():
    expected = [(-0.5, 0.5), (0.0, 0.5), (0.5, 0.5),
                (-0.5, 0.0), (0.0, 0.0), (0.5, 0.0),
                (-0.5, -0.5), (0.0, -0.5), (0.5, -0.5)]
    np.testing.assert_allclose(dot_position(np.arange(9)), expected)


def test_sequences_and_options_are_the_papers():
    assert SEQUENCES == {1: (4, 5, 1, 0), 2: (4, 3, 1, 2), 3: (4, 3, 7, 8), 4: (4, 5, 7, 6),
                         5: (4, 5, 1, 2), 6: (4, 3, 1, 0), 7: (4, 3, 7, 6), 8: (4, 5, 7, 8)}
    assert OPTIONS == {1: (0, 2), 3: (1, 7), 4: (3, 5), 5: (1, 7), 7: (6, 8)}
    for dots in SEQUENCES.values():   # every move is an allowed one
        for a, b in itertools.pairwise(dots):
            assert b in OPTIONS[a]


def test_declared_metadata():
    task = neurotasks.make_task(TASK_ID)
    assert task.dt == 10.0
    assert task.input_names == tuple(f"dot_{k}" for k in range(9)) + tuple(f"seq_{s}" for s in range(1, 9))
    assert task.output_names == ("eye_x", "eye_y")
    assert task.action_names is None
    assert task.period_names == ("iti", "fixation", "m1", "m2", "m3")
    assert task.suggested_network["n_units"] == 200
    assert task.suggested_network["tau"] == 50
    assert task.suggested_network["sigma_rec"] == 0.01
    assert str(task.criterion) == "rmse <= 0.05"
    assert task.rule.hold_periods == ("fixation",) and task.rule.tolerance == 0.2


def test_period_lengths():
    batch = clean_task().trials(8, rng=0)
    steps = {name: span[:, 1] - span[:, 0] for name, span in batch.periods.items()}
    assert {k: set(v.tolist()) for k, v in steps.items()} == {
        "iti": {100}, "fixation": {100}, "m1": {50}, "m2": {50}, "m3": {50}}
    assert set(batch.lengths.tolist()) == {350}


@pytest.mark.parametrize("seq_id", list(SEQUENCES))
def test_inputs_and_targets_per_period(seq_id):
    task = clean_task()
    batch = task.trials(2, rng=seq_id, sequence=seq_id)
    dots = SEQUENCES[seq_id]
    trial = batch.trial(0)
    inputs, targets, mask = trial["inputs"], trial["targets"], trial["mask"]
    seq_on = np.zeros(8)
    seq_on[seq_id - 1] = 1
    np.testing.assert_array_equal(inputs[:, 9:], np.tile(seq_on, (350, 1)))   # the whole trial, iti included
    shown = {"iti": set(), "fixation": {4}}
    for i, name in enumerate(("m1", "m2", "m3")):
        shown[name] = {dots[i], *OPTIONS[dots[i]]}
    fixated = {"fixation": dots[0], "m1": dots[1], "m2": dots[2], "m3": dots[3]}
    for name, (start, end) in trial["periods"].items():
        on = np.zeros(9)
        on[list(shown[name])] = 1
        np.testing.assert_array_equal(inputs[start:end, :9], np.tile(on, (end - start, 1)), err_msg=name)
        if name == "iti":
            assert not mask[start:end].any()
            assert not targets[start:end].any()
        else:
            assert mask[start:end].all()
            np.testing.assert_allclose(targets[start:end], np.tile(dot_position(fixated[name]), (end - start, 1)))
    assert not batch.gt.any()


def test_sequence_5_screen_path():
    batch = clean_task().trials(1, rng=0, sequence=5)
    spans = batch.trial(0)["periods"]
    path = [batch.targets[0, spans[name][0]] for name in ("fixation", "m1", "m2", "m3")]
    np.testing.assert_allclose(path, [(0, 0), (0.5, 0), (0, 0.5), (0.5, 0.5)])


def test_sequences_come_in_permuted_blocks():
    task = clean_task()
    seqs = task.trials(24, rng=3).params["sequence"]
    for block in seqs.reshape(3, 8):
        assert sorted(block.tolist()) == list(range(1, 9))
    subset = clean_task(sequences=[2, 7])
    seqs = subset.trials(10, rng=1).params["sequence"]
    assert set(seqs.tolist()) == {2, 7}
    np.testing.assert_array_equal(subset.conditions()["sequence"], [2, 7])
    np.testing.assert_array_equal(task.conditions()["sequence"], np.arange(1, 9))


def test_default_inputs_have_baseline_noise_and_stay_in_the_observation_space():
    task = neurotasks.make_task(TASK_ID)
    batch = task.trials(16, rng=0)
    low, high = task.observation_range
    assert low == 0.0
    assert batch.inputs.min() >= low and batch.inputs.max() <= high
    iti = batch.trial(0)["periods"]["iti"]
    assert abs(float(batch.inputs[0, iti[0]:iti[1], 0].mean()) - 0.2) < 0.05   # baseline on an off dot


def test_the_condition_grid_scores_every_sequence():
    task = neurotasks.make_task(TASK_ID)
    batch = task.grid_trials(2, rng=0)
    score = task.score(batch, task.evaluate(batch, outputs=batch.targets))
    assert score["min_condition_percent_correct"] == 100.0


def test_leaving_the_centre_during_fixation_aborts():
    task = clean_task()
    batch = task.trials(3, rng=0)
    actions = batch.targets.copy()
    fix = batch.periods["fixation"]
    actions[0, fix[0, 0] + 5] = (0.0, 0.25)     # beyond the 0.2 tolerance
    actions[1, fix[1, 0] + 5] = (0.15, -0.15)   # within it
    actions[2, batch.periods["m1"][2, 0] + 5] = (0.5, 0.5)   # far off, but not during fixation
    replay = task.evaluate(batch, actions=actions)
    np.testing.assert_array_equal(replay["aborted"], [True, False, False])
    assert replay["reward"][0] < -0.99


def test_env_streams_trials_without_reset():
    env = TaskEnv(TASK_ID, trials_per_episode=None)
    env.reset(seed=0)
    ended = 0
    for _ in range(1200):
        _, _, terminated, truncated, info = env.step(np.zeros(2, dtype=np.float32))   # eye on the centre
        assert not terminated and not truncated
        ended += "rmse" in info
    assert ended == 3   # 350 steps a trial


@pytest.mark.parametrize("kwargs, match", [
    ({"sequences": [9]}, "sequences"),
    ({"sequences": [0, 1]}, "sequences"),
    ({"sequences": []}, "sequences"),
    ({"sequences": [1, 1]}, "sequences"),
    ({"sequences": ["a"]}, "sequences"),
    ({"fixation_tolerance": 0}, "fixation_tolerance"),
    ({"fixation_tolerance": True}, "fixation_tolerance"),
    ({"fixation": 0}, "fixation"),
    ({"movement": -5}, "movement"),
    ({"iti": "long"}, "iti"),
    ({"dt": 0}, "dt"),
    ({"input_noise": -1}, "input_noise"),
])
def test_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        neurotasks.make_task(TASK_ID, **kwargs)


def test_bad_forced_sequence():
    with pytest.raises(ValueError, match="sequence"):
        neurotasks.make_task(TASK_ID).trials(2, rng=0, sequence=9)
