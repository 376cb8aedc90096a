"""neurotasks.speed (``neurotasks speed``): the timing helper, the policies, the report, the bars, the JSON
file and the CLI wiring.

Numbers are not asserted (the machine is shared); the shape of what is measured is.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neurotasks import speed
from neurotasks.speed import BenchConfig

QUICK = BenchConfig.quick()


def fake_results(peer: dict | None = None) -> dict:
    """A results dict of the shape run_benchmarks returns, with round numbers."""
    def trial_rows(dt, rate):
        return [{"n": n, "dt": dt, "seconds_per_call": n / rate, "trials_per_s": rate, "steps_per_trial": 10.0,
                 "steps_per_s": 10 * rate} for n in speed.TRIAL_BATCH_SIZES]

    results = {
        "machine": speed.machine(), "config": vars(QUICK).copy(), "task": speed.TASK_ID,
        "trials": {"default": trial_rows(20.0, 50_000.0), "neurogym_config": trial_rows(100.0, 200_000.0)},
        "sampler": {"default": {"batch_size": 128, "block": 768, "dt": 20.0, "seconds_per_batch": 128 / 80_000.0,
                                "trials_per_s": 80_000.0, "steps_per_trial": 45.0},
                    "neurogym_config": {"batch_size": 128, "block": 3840, "dt": 100.0,
                                        "seconds_per_batch": 128 / 300_000.0, "trials_per_s": 300_000.0,
                                        "steps_per_trial": 9.0}},
        "single_env": {"fixate": {"policy": "fixate", "steps_per_s": 150_000.0, "steps_per_episode": 57.0,
                                  "wrappers": "<TaskEnv>"},
                       "random": {"policy": "random", "steps_per_s": 15_000.0, "steps_per_episode": 1.5,
                                  "wrappers": "<TaskEnv>"}},
        "vector_env": {policy: [{"n": n, "policy": policy, "steps_per_s": rate, "env_steps_per_s": rate * n,
                                 "steps_per_episode": per_episode} for n in speed.VECTOR_ENV_SIZES]
                       for policy, rate, per_episode in (("fixate", 1000.0, 57.0), ("random", 250.0, 2.5))},
        "import": {"seconds": 0.2, "interpreter_seconds": 0.05, "with_import_seconds": 0.25,
                   "heavy_modules_imported": "[]"},
        "vectorisation": [{"task": "A-v0", "singles_seconds": 0.03, "batch_seconds": 0.001, "ratio": 30.0},
                          {"task": "B-v0", "singles_seconds": 0.03, "batch_seconds": 0.003, "ratio": 10.0}],
    }
    if peer is not None:
        results["neurogym"] = peer
    results["comparisons"] = speed.comparisons(results)
    return results


PEER = {"neurogym": "2.3.1", "gymnasium": "0.29.1", "python": "3.11", "env_id": "PerceptualDecisionMaking-v0",
        "dt": 100.0, "env": {"steps_per_s": 100_000.0, "wrappers": "<OrderEnforcing>"},
        "env_random": {"steps_per_s": 80_000.0, "steps_per_trial": 22.0},
        "dataset": {"batch_size": 128, "seq_len": 100, "cache_len": 200, "calls_per_block": 4,
                    "trials_generated_per_s": 1000.0, "trials_delivered_per_s": 500.0,
                    "steps_generated_per_s": 22_000.0, "steps_delivered_per_s": 11_000.0,
                    "delivered_fraction": 0.5, "steps_per_trial": 22.0},
        "import": {"seconds": 3.0, "interpreter_seconds": 0.05, "with_import_seconds": 3.05,
                   "heavy_modules_imported": "['torch']"}}


def test_median_time_is_seconds_per_call():
    calls = []
    seconds = speed.median_time(lambda: calls.append(1), repeats=3, min_time=0.001, warmup=2)
    assert 0 < seconds < 0.001
    assert len(calls) >= 2 + 3


def test_comparisons_apply_the_bars():
    rows = {row["key"]: row for row in fake_results(PEER)["comparisons"]}
    assert rows["import_time"]["met"] is True                       # 0.2 s < 0.3 s
    assert rows["vectorisation"]["value"] == 10.0                   # the worst task
    assert rows["vectorisation"]["met"] is False
    assert rows["batch_vs_dataset"]["value"] == pytest.approx(600.0)  # sampler 300,000 / 500 delivered
    assert rows["batch_vs_dataset"]["met"] is True
    assert rows["batch_vs_dataset_generated"]["value"] == pytest.approx(300.0)
    assert rows["batch_vs_dataset_default_dt"]["value"] == pytest.approx(160.0)
    assert rows["trials_vs_dataset"]["value"] == pytest.approx(400.0)     # trials(128): 200,000 / 500
    assert rows["batch_steps_vs_dataset"]["value"] == pytest.approx(300_000 * 9 / 22_000)
    assert rows["vector_vs_env"]["value"] == pytest.approx(1024 * 1000 / 100_000)
    assert "sequential" in rows["vector_vs_env"]["what"]
    assert rows["vector_vs_env"]["met"] is False
    assert rows["env_vs_env"]["value"] == pytest.approx(1.5)
    # Random actions: reported beside the bars (no bar), against NeuroGym's env under random actions too.
    assert rows["vector_random_vs_env"]["value"] == pytest.approx(1024 * 250 / 80_000)
    assert rows["single_random_vs_env"]["value"] == pytest.approx(15_000 / 80_000)
    assert rows["single_random_vs_env"]["met"] is None and "random actions" in rows["single_random_vs_env"]["what"]


def test_comparisons_skip_random_actions_when_the_peer_does_not_time_them():
    peer = {key: value for key, value in PEER.items() if key != "env_random"}
    keys = {row["key"] for row in fake_results(peer)["comparisons"]}
    assert {"vector_vs_env", "env_vs_env"} <= keys and not any("random" in key for key in keys)


def test_comparisons_without_neurogym_keep_our_own_bars():
    assert {row["key"] for row in fake_results()["comparisons"]} == {"import_time", "vectorisation"}
    assert {row["key"] for row in fake_results({"error": "boom"})["comparisons"]} == {"import_time", "vectorisation"}


def test_report_names_every_section_and_failed_bars():
    text = speed.format_report(fake_results(PEER))
    for needle in ("1. Trial generation", "NeuroGym's dt=100 ms", "2. Environment steps", "3. Import time",
                   "4. Vectorisation", "5. NeuroGym 2.3.1", "6. Bars", "below bar", "NO", "yes",
                   "random = uniform random actions, pre-drawn", "80,000 steps/s with random actions"):
        assert needle in text
    section = text[text.index("2. Environment steps"):text.index("3. Import time")]
    env_rows = [line.split() for line in section.splitlines() if line.lstrip().startswith(("gym.make(", "native"))]
    assert sorted({(row[-4], row[-3]) for row in env_rows}) == sorted(
        {("fixate", "1"), ("random", "1")} | {(p, str(n)) for p in speed.POLICIES for n in speed.VECTOR_ENV_SIZES})
    assert "not measured" in speed.format_report(fake_results())
    assert "peer run failed: boom" in speed.format_report(fake_results({"error": "boom"}))


def test_save_json_is_atomic_and_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "sub" / "bench.json"
    results = fake_results(PEER)
    speed.save_json(path, results)
    assert json.loads(path.read_text())["comparisons"] == json.loads(json.dumps(results["comparisons"]))
    assert os.listdir(path.parent) == ["bench.json"]


def test_save_json_keeps_the_old_file_when_writing_fails(tmp_path):
    path = tmp_path / "bench.json"
    path.write_text("old")
    with pytest.raises(TypeError):
        speed.save_json(path, {"bad": object()})
    assert path.read_text() == "old"
    assert os.listdir(tmp_path) == ["bench.json"]


def test_our_measurements_have_the_documented_rows():
    trials = speed.bench_trials(ns=(16, 128), config=QUICK, dt=100.0)
    assert [row["n"] for row in trials] == [16, 128]
    assert all(row["dt"] == 100.0 and row["trials_per_s"] > 0 and row["steps_per_trial"] >= 1 for row in trials)
    sampler = speed.bench_sampler(config=QUICK, dt=100.0)
    assert sampler["batch_size"] == 128 and sampler["block"] % 128 == 0 and sampler["trials_per_s"] > 0
    for policy in speed.POLICIES:
        vector = speed.bench_vector_env(ns=(1, 4), policy=policy, config=QUICK)
        assert [row["n"] for row in vector] == [1, 4] and {row["policy"] for row in vector} == {policy}
        assert vector[1]["env_steps_per_s"] == pytest.approx(4 * vector[1]["steps_per_s"])
        single = speed.bench_single_env(policy=policy, config=QUICK)
        assert single["steps_per_s"] > 0 and "TaskEnv" in single["wrappers"] and single["policy"] == policy
    with pytest.raises(ValueError, match="policy must be one of"):
        speed.bench_single_env(policy="greedy", config=QUICK)
    ratio = speed.bench_vectorisation(["PerceptualDecision-v0"], n=8, config=QUICK)
    assert ratio[0]["task"] == "PerceptualDecision-v0" and ratio[0]["ratio"] > 0


def test_import_probe_reports_no_heavy_module():
    result = speed.bench_import(sys.executable, "neurotasks", repeats=1)
    assert result["heavy_modules_imported"] == "[]"
    assert result["with_import_seconds"] > 0


def test_peer_failures_are_reported_not_raised(tmp_path):
    missing = speed.run_peer(sys.executable, config=QUICK, script=tmp_path / "absent.py")
    assert "not found" in missing["error"]
    crash = tmp_path / "crash.py"
    crash.write_text("raise SystemExit('no neurogym here')")
    assert "exit code 1" in speed.run_peer(sys.executable, config=QUICK, script=crash)["error"]
    chatty = tmp_path / "chatty.py"
    chatty.write_text("print('hello')")
    assert "no JSON" in speed.run_peer(sys.executable, config=QUICK, script=chatty)["error"]


def test_speed_command_takes_the_script_options():
    from agents.cli import build_parser

    args = build_parser(["speed"]).parse_args(["speed", "--json", "out.json", "--repeats", "3", "--quick",
                                               "--neurogym-python", "/x/python"])
    assert (args.json, args.repeats, args.quick, args.neurogym_python) == ("out.json", 3, True, "/x/python")


def test_bench_is_not_a_command_any_more(capsys):
    from agents.cli import main

    with pytest.raises(SystemExit):
        main(["bench"])
    assert "invalid choice: 'bench'" in capsys.readouterr().err


def test_speed_is_light_and_import_neurotasks_does_not_load_it():
    probe = ("import sys, neurotasks; loaded = 'neurotasks.speed' in sys.modules; import neurotasks.speed; "
             "print(loaded, sorted(m for m in ('torch', 'matplotlib', 'agents') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", probe], check=True, capture_output=True, text=True).stdout
    assert out.split(maxsplit=1) == ["False", "[]\n"]
    command = ("import sys; from agents.cli import build_parser; build_parser(['speed']); "
               "print(sorted(m for m in ('torch', 'matplotlib', 'stable_baselines3') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", command], check=True, capture_output=True, text=True).stdout
    assert out == "[]\n"                                         # `neurotasks speed` runs on a light install


def test_random_actions_are_drawn_in_the_action_space():
    import gymnasium as gym

    discrete = speed.random_actions(gym.spaces.Discrete(3), 1000)
    assert discrete.shape == (1000,) and set(discrete.tolist()) == {0, 1, 2}
    box = gym.spaces.Box(-1.0, 2.0, (2,), dtype=np.float32)
    drawn = speed.random_actions(box, 500)
    assert drawn.shape == (500, 2) and drawn.dtype == np.float32 and all(box.contains(a) for a in drawn)
    with pytest.raises(TypeError, match="bounded Box"):
        speed.random_actions(gym.spaces.Box(-np.inf, np.inf, (2,)), 10)


def test_random_policy_breaks_fixation_so_episodes_are_short():
    _, fixate = speed.single_env(policy="fixate")
    _, random = speed.single_env(policy="random")
    assert speed.single_steps_per_episode(random, 300) < 3 < 20 < speed.single_steps_per_episode(fixate, 300)
    envs, step = speed.vector_env(n_envs=8, policy="random")
    assert 1 < speed.vector_steps_per_episode(step, 50, 8) < 5       # the autoreset step counts too
    envs.close()


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("NEUROGYM_PYTHON"), reason="NEUROGYM_PYTHON not set")
def test_neurogym_peer_prints_its_measurements_as_json():
    script = Path(speed.PEER_SCRIPT)
    out = subprocess.run([os.environ["NEUROGYM_PYTHON"], str(script), "--repeats", "1", "--min-time", "0.01",
                          "--env-block", "100"], check=True, capture_output=True, text=True).stdout
    result = json.loads(out)
    assert result["env_id"] == "PerceptualDecisionMaking-v0" and result["dt"] == 100.0
    assert result["dataset"]["cache_len"] == 200 and result["dataset"]["delivered_fraction"] < 1.0
    assert result["dataset"]["trials_generated_per_s"] > result["dataset"]["trials_delivered_per_s"] > 0
    assert result["env_random"]["steps_per_s"] > 0 and result["env_random"]["steps_per_trial"] >= 1


def test_paired_times_alternate_blocks_and_report_the_ratio():
    order = []
    a_seconds, b_seconds, ratio = speed.paired_times(lambda: order.append("a"), lambda: order.append("b"),
                                                     repeats=3, min_time=0.0)
    assert a_seconds > 0 and b_seconds > 0 and ratio > 0
    assert order[-2:] == ["a", "b"] and order.count("a") >= 3 + 1 and order.count("b") >= 3 + 1


class FakePeer:
    """Stands in for PeerEnv: NeuroGym's env at exactly 100,000 steps/s, its Dataset delivering
    half of 2,000 trials generated per second."""

    def __init__(self):
        self.requests = []

    def seconds(self, steps, policy="fixate"):
        self.requests.append((steps, policy))
        return steps / (100_000.0 if policy == "fixate" else 50_000.0)

    def dataset(self, fills):
        return {"seconds": fills / 10, "trials": 200 * fills, "steps": 4400 * fills, "delivered_steps": 2200 * fills}


def test_env_pairs_bracket_each_of_our_blocks_with_peer_blocks():
    peer = FakePeer()
    paired = speed.bench_env_pairs(peer, config=QUICK, n_envs=4)
    for key, rate in (("single", 100_000.0), ("vector", 100_000.0), ("single_random", 50_000.0),
                      ("vector_random", 50_000.0)):
        assert len(paired[key]["rounds"]) == QUICK.repeats
        assert paired[key]["neurogym"] == pytest.approx(rate)       # each policy against the peer's same policy
        assert paired[key]["ratio"] == pytest.approx(paired[key]["ours"] / rate, rel=0.5)
        assert paired[key]["policy"] == ("fixate" if key in ("single", "vector") else "random")
    # Per policy: warm-up, first block, one after each of ours; all of one policy's blocks together.
    policies = [policy for _, policy in peer.requests]
    per_policy = 2 + 2 * QUICK.repeats
    assert policies == ["fixate"] * per_policy + ["random"] * per_policy


def test_sampler_pairs_divide_by_the_trials_the_dataset_delivers():
    paired = speed.bench_sampler_pairs(FakePeer(), config=QUICK)
    assert paired["neurogym"] == pytest.approx(1000.0)          # 2,000 generated/s, half delivered
    assert len(paired["rounds"]) == QUICK.repeats and paired["ratio"] == pytest.approx(paired["ours"] / 1000, rel=0.5)


def test_comparisons_prefer_the_alternating_blocks():
    results = fake_results(PEER)
    results["paired"] = {key: {"ours": 300_000.0, "neurogym": 100_000.0, "ratio": 3.0, "rounds": [(3.0, 1.0)]}
                         for key in ("single", "vector", "sampler", "single_random", "vector_random")}
    results["paired"]["single_random"]["ratio"] = 0.25
    rows = {row["key"]: row for row in speed.comparisons(results)}
    assert rows["vector_vs_env"]["value"] == 3.0 and rows["env_vs_env"]["value"] == 3.0
    assert rows["single_random_vs_env"]["value"] == 0.25 and "alternating" in rows["single_random_vs_env"]["what"]
    assert rows["batch_vs_dataset"]["value"] == 3.0
    assert "alternating" in rows["vector_vs_env"]["what"]
    assert "alternating blocks" in speed.format_report({**results, "comparisons": list(rows.values())})


@pytest.mark.slow
@pytest.mark.skipif(not os.environ.get("NEUROGYM_PYTHON"), reason="NEUROGYM_PYTHON not set")
def test_neurogym_peer_serves_timed_blocks():
    with speed.PeerEnv(os.environ["NEUROGYM_PYTHON"]) as peer:
        assert 0 < peer.seconds(200) < 10 and 0 < peer.seconds(200, "random") < 10
        block = peer.dataset(2)
        assert block["trials"] > 0 and 0 < block["delivered_steps"] < block["steps"]
