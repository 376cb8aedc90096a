"""How fast neurotasks is: trial generation, environment steps, import; NeuroGym's figures side by side.

One module serves ``benchmarks/bench_tasks.py`` and ``neurotasks speed`` so both print the same
numbers. Every figure is the median over repeats of a timed block (``time.perf_counter``) run
after a warm-up call; a block repeats its call until it lasts at least ``min_time`` seconds, so
fast calls are not dominated by the timer. The machine may be shared: medians, not means.

Environments are timed under two policies: ``fixate`` (action 0 every step, so every trial runs
to its end) and ``random`` (uniform random actions, as an untrained RL agent acts: fixation is
broken almost at once, so a new trial starts almost every step). Random actions are drawn before
the timing starts and read from a list, so the policy's own cost is not counted.

NeuroGym lives in its own environment (it pins gymnasium 0.29), so its side runs in a
subprocess: ``benchmarks/neurogym_peer.py`` under the interpreter named by ``--neurogym-python``
or ``$NEUROGYM_PYTHON``, printing JSON on stdout.

It measures the ``neurotasks`` package and needs only numpy and gymnasium, so it lives here; it is
not imported by ``import neurotasks`` (the measured import stays light).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import gymnasium as gym
import numpy as np

import neurotasks
from neurotasks.allocator import freed_memory_kept

TASK_ID = "PerceptualDecision-v0"
#: NeuroGym's PerceptualDecisionMaking-v0 runs at dt = 100 ms by default.
NEUROGYM_DT = 100.0
TRIAL_BATCH_SIZES = (16, 128, 1024)
VECTOR_ENV_SIZES = (1, 64, 1024)
VECTORISATION_BATCH = 128
PEER_SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "neurogym_peer.py"
#: The peer's request that times its env under each policy.
PEER_REQUESTS = {"fixate": "env", "random": "random"}

#: The bars the project set itself: (description, comparison, threshold).
BARS: dict[str, tuple[str, str, float]] = {
    "batch_vs_dataset": ("TrialSampler batches of 128 at dt=100 ÷ NeuroGym Dataset(batch_size=128), trials "
                         "delivered/s (alternating blocks)", ">=", 100.0),
    "vector_vs_env": ("native vector env, 1024 envs ÷ one NeuroGym env, steps/s (alternating blocks)", ">=", 20.0),
    "env_vs_env": ("one gym.make env ÷ one NeuroGym env, steps/s (alternating blocks)", ">=", 1.0),
    "import_time": ("import neurotasks, seconds", "<", 0.3),
    "vectorisation": ("128 × trials(1) ÷ 1 × trials(128), every task", ">=", 20.0),
}


@dataclass(frozen=True)
class BenchConfig:
    """How long and how often to time. ``quick()`` is for smoke tests, not for numbers."""

    repeats: int = 5
    min_time: float = 0.1
    import_repeats: int = 7
    env_block: int = 2000           # env steps per timed call
    vector_block: int = 200         # vector-env steps per timed call
    seq_len: int = 100              # NeuroGym Dataset sequence length (its documentation's value)

    @classmethod
    def quick(cls) -> BenchConfig:
        return cls(repeats=2, min_time=0.005, import_repeats=2, env_block=200, vector_block=20)


# ---------------------------------------------------------------------- timing
def calls_per_block(fn: Callable[[], Any], min_time: float) -> int:
    """Calls of ``fn`` (after one warm-up call) that make a block of at least ``min_time`` seconds."""
    fn()
    calls = 1
    while True:
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        if time.perf_counter() - start >= min_time:
            return calls
        calls *= 2


def median_time(fn: Callable[[], Any], *, repeats: int, min_time: float, warmup: int = 1) -> float:
    """Median seconds per call of ``fn``, over ``repeats`` blocks of equal numbers of calls.

    The calls per block are found by doubling until one block lasts ``min_time``
    (``calls_per_block``); the warm-up calls (caches, lazy allocations, first-call checks) are
    not timed.
    """
    for _ in range(warmup - 1):                  # calls_per_block makes one warm-up call itself
        fn()
    calls = calls_per_block(fn, min_time)
    blocks = []
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(calls):
            fn()
        blocks.append((time.perf_counter() - start) / calls)
    return statistics.median(blocks)


# ---------------------------------------------------------------------- our measurements
def bench_trials(task_id: str = TASK_ID, ns: Sequence[int] = TRIAL_BATCH_SIZES, *, config: BenchConfig,
                 **task_kwargs: Any) -> list[dict[str, float]]:
    """trials/s of ``task.trials(n)`` for each n, and real (unpadded) steps/s."""
    task = neurotasks.make_task(task_id, **task_kwargs)
    rng = np.random.default_rng(0)
    rows = []
    for n in ns:
        mean_steps = float(np.mean([task.trials(n, rng).lengths.mean() for _ in range(5)]))
        seconds = median_time(lambda n=n: task.trials(n, rng), repeats=config.repeats, min_time=config.min_time)
        rows.append({"n": n, "dt": task.dt, "seconds_per_call": seconds, "trials_per_s": n / seconds,
                     "steps_per_trial": mean_steps, "steps_per_s": n * mean_steps / seconds})
    return rows


def bench_sampler(task_id: str = TASK_ID, batch_size: int = 128, *, config: BenchConfig,
                  **task_kwargs: Any) -> dict[str, float]:
    """trials/s delivered by a ``TrialSampler`` in batches of ``batch_size`` (its default block),
    timed over whole blocks so every block's construction is counted."""
    sampler = neurotasks.TrialSampler(task_id, batch_size, 0, **task_kwargs)
    per_block = sampler.block // batch_size
    mean_steps = float(np.mean([sampler().lengths.mean() for _ in range(per_block)]))

    def one_block() -> None:
        for _ in range(per_block):
            sampler()

    seconds = median_time(one_block, repeats=config.repeats, min_time=config.min_time) / per_block
    return {"batch_size": batch_size, "block": sampler.block, "dt": sampler.task.dt, "seconds_per_batch": seconds,
            "trials_per_s": batch_size / seconds, "steps_per_trial": mean_steps}


#: How the timed agent acts: "fixate" (action 0 every step) or "random" (uniform random actions).
POLICIES = ("fixate", "random")
#: Pre-drawn random actions a single env cycles through, and action rows a vector env cycles through.
RANDOM_ACTIONS = 1 << 16
RANDOM_ROWS = 256


def check_policy(policy: str) -> None:
    if policy not in POLICIES:
        raise ValueError(f"policy must be one of {POLICIES}, got {policy!r}")


def random_actions(space: gym.spaces.Space, n: int, seed: int = 1) -> np.ndarray:
    """``n`` uniform random actions of ``space`` (Discrete or bounded Box), drawn up front."""
    rng = np.random.default_rng(seed)
    if isinstance(space, gym.spaces.Discrete):
        return space.start + rng.integers(0, space.n, n)
    if isinstance(space, gym.spaces.Box) and space.is_bounded():
        return rng.uniform(space.low, space.high, (n, *space.shape)).astype(space.dtype)
    raise TypeError(f"random actions need a Discrete or bounded Box action space, got {space}")


def quiet_actions(space: gym.spaces.Space, n: int) -> np.ndarray:
    """``n`` fixating actions (action 0 of a Discrete space, zeros of a Box)."""
    if isinstance(space, gym.spaces.Discrete):
        return np.zeros(n, np.int64)
    return np.zeros((n, *space.shape), space.dtype)


def chunk_lifetime(env: gym.Env | gym.vector.VectorEnv, steps_per_episode: float) -> int:
    """Steps one (sub-)environment takes to use up a chunk of pre-drawn trials, its episodes
    (one trial each) lasting ``steps_per_episode`` steps.

    Environments draw ``trial_chunk`` trials at a time, so a timing shorter than this can miss
    the draws altogether; env timings below cover several lifetimes and report the mean rate
    (total steps / total time), which includes every draw.
    """
    return int(env.unwrapped.trial_chunk * steps_per_episode)


def time_steps(step: Callable[[], Any], n_steps: int, repeats: int) -> float:
    """Mean seconds per call of ``step`` over ``repeats`` runs of ``n_steps`` calls (after one warm-up run)."""
    for _ in range(max(1, n_steps // 10)):
        step()
    total = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        for _ in range(n_steps):
            step()
        total += time.perf_counter() - start
    return total / (repeats * n_steps)


def single_env(task_id: str = TASK_ID, policy: str = "fixate") -> tuple[gym.Env, Callable[[], bool]]:
    """A ``gym.make(task_id)`` env reset with seed 0, and a function stepping it once under
    ``policy`` (random actions read from a pre-drawn list), resetting it when an episode ends; the
    function returns whether one did."""
    check_policy(policy)
    env = gym.make(task_id)
    env.reset(seed=0)
    env_step, reset = env.step, env.reset
    if policy == "fixate":
        quiet = quiet_actions(env.action_space, 1)[0]
        action = int(quiet) if quiet.ndim == 0 else quiet      # a plain int takes TaskEnv's fast path

        def step() -> bool:
            _, _, terminated, truncated, _ = env_step(action)
            if terminated or truncated:
                reset()
                return True
            return False

        return env, step
    drawn = random_actions(env.action_space, RANDOM_ACTIONS)
    actions = itertools.cycle(drawn.tolist() if drawn.ndim == 1 else list(drawn))

    def random_step() -> bool:
        _, _, terminated, truncated, _ = env_step(next(actions))
        if terminated or truncated:
            reset()
            return True
        return False

    return env, random_step


def vector_env(task_id: str = TASK_ID, n_envs: int = 1,
               policy: str = "fixate") -> tuple[gym.vector.VectorEnv, Callable[[], tuple]]:
    """The native vector env of ``n_envs`` reset with seed 0, and a function stepping it once under
    ``policy`` (random actions: rows of a pre-drawn array, cycled through); the function returns
    what ``step`` does."""
    check_policy(policy)
    envs = gym.make_vec(task_id, num_envs=n_envs, vectorization_mode="vector_entry_point")
    envs.reset(seed=0)
    envs_step, space = envs.step, envs.single_action_space
    if policy == "fixate":
        actions = quiet_actions(space, n_envs)
        return envs, lambda: envs_step(actions)
    drawn = random_actions(space, RANDOM_ROWS * n_envs)
    rows = itertools.cycle(list(drawn.reshape(RANDOM_ROWS, n_envs, *space.shape)))
    return envs, lambda: envs_step(next(rows))


#: Untimed env-steps over which a vector env's steps per episode are counted (several fixating
#: trials per sub-environment), and the fewest steps of the vector env that counts them.
COUNT_ENV_STEPS = 2048
COUNT_STEPS = 200


def count_steps(config: BenchConfig, n_envs: int) -> int:
    """Steps of the untimed pass that counts a vector env's episodes."""
    return max(config.vector_block, COUNT_STEPS, COUNT_ENV_STEPS // n_envs)


def single_steps_per_episode(step: Callable[[], bool], n_steps: int) -> float:
    """Mean steps per episode over ``n_steps`` (untimed) calls of a ``single_env`` step function
    (``n_steps`` if no episode ended: at least that long)."""
    return n_steps / max(1, sum(step() for _ in range(n_steps)))


def vector_steps_per_episode(step: Callable[[], tuple], n_steps: int, n_envs: int) -> float:
    """Mean env-steps per episode over ``n_steps`` (untimed) calls of a ``vector_env`` step function
    (``n_steps`` if no episode ended: at least that long); with autoreset, an episode's count
    includes the step that resets it."""
    ends = 0
    for _ in range(n_steps):
        _, _, terminated, truncated, _ = step()
        ends += int(np.count_nonzero(terminated | truncated))
    return n_steps * n_envs / ends if ends else float(n_steps)


def bench_single_env(task_id: str = TASK_ID, *, policy: str = "fixate", config: BenchConfig) -> dict[str, Any]:
    """steps/s of one ``gym.make(task_id)`` env (wrappers included) under ``policy``, reset on termination."""
    env, step = single_env(task_id, policy)
    per_episode = single_steps_per_episode(step, config.env_block)
    n_steps = max(config.env_block, 3 * chunk_lifetime(env, per_episode))
    seconds = time_steps(step, n_steps, config.repeats)
    env.close()
    return {"policy": policy, "steps_per_s": 1.0 / seconds, "steps_per_episode": per_episode, "wrappers": str(env)}


def bench_vector_env(task_id: str = TASK_ID, ns: Sequence[int] = VECTOR_ENV_SIZES, *, policy: str = "fixate",
                     config: BenchConfig) -> list[dict[str, Any]]:
    """env-steps/s (steps × n / time) of the native vector env for each n under ``policy``
    (autoreset), over several chunk lifetimes so the trial draws are all counted."""
    rows = []
    for n in ns:
        envs, step = vector_env(task_id, n, policy)
        per_episode = vector_steps_per_episode(step, count_steps(config, n), n)
        n_steps = max(config.vector_block, 2 * chunk_lifetime(envs, per_episode)) if n > 1 \
            else max(config.env_block, 2000)
        seconds = time_steps(step, n_steps, 1)
        envs.close()
        rows.append({"n": n, "policy": policy, "steps_per_s": 1.0 / seconds, "env_steps_per_s": n / seconds,
                     "steps_per_episode": per_episode})
    return rows


def bench_import(python: str, module: str, *, repeats: int) -> dict[str, Any]:
    """Import time of ``module`` in a fresh interpreter: median of (``import module`` run) minus median
    of (bare ``pass`` run), the two interleaved so load on the machine hits both alike."""
    def run(code: str) -> float:
        start = time.perf_counter()
        subprocess.run([python, "-c", code], check=True, capture_output=True)
        return time.perf_counter() - start

    run("pass")
    run(f"import {module}")                       # warm the file-system cache
    bare, loaded = [], []
    for _ in range(repeats):
        bare.append(run("pass"))
        loaded.append(run(f"import {module}"))
    probe = subprocess.run([python, "-c", f"import sys, {module}; print(sorted(m for m in ('torch', 'matplotlib', "
                                          f"'scipy') if m in sys.modules))"],
                           check=True, capture_output=True, text=True).stdout.strip()
    return {"seconds": statistics.median(loaded) - statistics.median(bare),
            "interpreter_seconds": statistics.median(bare), "with_import_seconds": statistics.median(loaded),
            "heavy_modules_imported": probe}


def paired_times(a: Callable[[], Any], b: Callable[[], Any], *, repeats: int,
                 min_time: float) -> tuple[float, float, float]:
    """(median seconds per call of ``a``, of ``b``, median of the per-round ratios a ÷ b).

    Blocks of ``a`` and ``b`` alternate, so a slow spell of a shared machine hits both sides of
    a ratio alike instead of one of them.
    """
    calls = (calls_per_block(a, min_time), calls_per_block(b, min_time))
    rounds = []
    for _ in range(repeats):
        seconds = []
        for fn, k in zip((a, b), calls, strict=True):
            start = time.perf_counter()
            for _ in range(k):
                fn()
            seconds.append((time.perf_counter() - start) / k)
        rounds.append(seconds)
    return (statistics.median(r[0] for r in rounds), statistics.median(r[1] for r in rounds),
            statistics.median(r[0] / r[1] for r in rounds))


def bench_vectorisation(task_ids: Sequence[str] | None = None, n: int = VECTORISATION_BATCH, *,
                        config: BenchConfig) -> list[dict[str, float]]:
    """For each task: time of ``n`` calls of ``trials(1)`` ÷ time of one ``trials(n)`` (default
    arguments), the two timed in alternating blocks."""
    rows = []
    for task_id in task_ids or neurotasks.list_tasks():
        task = neurotasks.make_task(task_id)
        rng = np.random.default_rng(0)

        def one_by_one(task=task, rng=rng) -> None:
            for _ in range(n):
                task.trials(1, rng)

        singles, batched, ratio = paired_times(one_by_one, lambda task=task, rng=rng: task.trials(n, rng),
                                               repeats=config.repeats, min_time=config.min_time)
        rows.append({"task": task_id, "singles_seconds": singles, "batch_seconds": batched, "ratio": ratio})
    return rows


# ---------------------------------------------------------------------- NeuroGym side
class PeerEnv:
    """One NeuroGym env (and Dataset) in a subprocess (``neurogym_peer.py --serve``), timed on request, so its
    blocks can alternate with ours and a slow spell of the machine hits both sides of a ratio."""

    def __init__(self, python: str, script: Path = PEER_SCRIPT) -> None:
        self._process = subprocess.Popen([python, str(script), "--serve"], stdin=subprocess.PIPE,
                                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self._read()                                        # {"ready": true, ...}

    def _read(self) -> dict[str, Any]:
        line = self._process.stdout.readline()
        if not line:
            raise RuntimeError(f"the NeuroGym peer exited (code {self._process.poll()})")
        answer = json.loads(line)
        if "error" in answer:
            raise RuntimeError(answer["error"])
        return answer

    def seconds(self, steps: int, policy: str = "fixate") -> float:
        """Wall time of ``steps`` steps of the NeuroGym env under ``policy`` (its random actions
        pre-drawn too)."""
        check_policy(policy)
        self._process.stdin.write(f"{PEER_REQUESTS[policy]} {int(steps)}\n")
        self._process.stdin.flush()
        return float(self._read()["seconds"])

    def dataset(self, fills: int) -> dict[str, float]:
        """``Dataset(batch_size=128, seq_len=100)`` calls worth ``fills`` cache fills: seconds, trials
        and steps generated, steps delivered."""
        self._process.stdin.write(f"dataset {int(fills)}\n")
        self._process.stdin.flush()
        return self._read()

    def close(self) -> None:
        if self._process.poll() is None:
            self._process.stdin.write("quit\n")
            self._process.stdin.close()
            self._process.wait(timeout=30)

    def __enter__(self) -> PeerEnv:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def pair_key(kind: str, policy: str) -> str:
    """The key of a paired env timing: "single"/"vector" when fixating, "single_random"... otherwise."""
    return kind if policy == "fixate" else f"{kind}_{policy}"


def bench_env_pairs(peer: Any, *, config: BenchConfig, n_envs: int = max(VECTOR_ENV_SIZES),
                    policies: Sequence[str] = POLICIES) -> dict[str, Any]:
    """Our ``gym.make`` env and our native vector env of ``n_envs``, under each policy, each timed
    between two blocks of NeuroGym's env under the same policy; per round, our rate ÷ the mean
    NeuroGym rate of the blocks around it.

    ``peer.seconds(steps, policy)`` times NeuroGym's env (a ``PeerEnv``). Returns, for "single"
    and "vector" (fixating) and "single_random" and "vector_random", the median of our rates, of
    NeuroGym's and of the per-round ratios, and the rounds.
    """
    peer_steps = max(config.env_block, 10 * config.env_block)
    results: dict[str, Any] = {}
    for policy in policies:
        single, single_step = single_env(TASK_ID, policy)
        vector, vector_step = vector_env(TASK_ID, n_envs, policy)
        # The counting passes warm both up, and size the blocks to cover several chunks of trials.
        single_steps = max(config.env_block,
                           3 * chunk_lifetime(single, single_steps_per_episode(single_step, config.env_block)))
        vector_steps = max(config.vector_block, 2 * chunk_lifetime(
            vector, vector_steps_per_episode(vector_step, count_steps(config, n_envs), n_envs)))
        ours = {pair_key("single", policy): (single_step, single_steps, 1),
                pair_key("vector", policy): (vector_step, vector_steps, n_envs)}
        peer.seconds(peer_steps // 10, policy)               # warm up
        rounds: dict[str, list[tuple[float, float]]] = {key: [] for key in ours}
        before = peer_steps / peer.seconds(peer_steps, policy)
        for _ in range(config.repeats):
            for key, (fn, steps, width) in ours.items():
                start = time.perf_counter()
                for _ in range(steps):
                    fn()
                rate = steps * width / (time.perf_counter() - start)
                after = peer_steps / peer.seconds(peer_steps, policy)
                rounds[key].append((rate, (before + after) / 2))
                before = after
        single.close()
        vector.close()
        for key, value in rounds.items():
            results[key] = {"policy": policy, "ours": statistics.median(r for r, _ in value),
                            "neurogym": statistics.median(p for _, p in value),
                            "ratio": statistics.median(r / p for r, p in value), "rounds": value}
    return results


def bench_sampler_pairs(peer: Any, *, config: BenchConfig, batch_size: int = 128) -> dict[str, Any]:
    """``TrialSampler`` batches at NeuroGym's dt, each block timed between two blocks of NeuroGym's
    ``Dataset``; per round, our trials/s ÷ the mean of the trials/s the Dataset delivered around it."""
    sampler = neurotasks.TrialSampler(TASK_ID, batch_size, 0, dt=NEUROGYM_DT)
    per_block = sampler.block // batch_size
    blocks = max(1, calls_per_block(lambda: [sampler() for _ in range(per_block)], config.min_time))
    fills = 8

    def delivered() -> float:
        block = peer.dataset(fills)
        return block["trials"] * (block["delivered_steps"] / block["steps"]) / block["seconds"]

    before = delivered()
    rounds = []
    for _ in range(config.repeats):
        start = time.perf_counter()
        for _ in range(blocks * per_block):
            sampler()
        rate = blocks * per_block * batch_size / (time.perf_counter() - start)
        after = delivered()
        rounds.append((rate, (before + after) / 2))
        before = after
    return {"ours": statistics.median(r for r, _ in rounds), "neurogym": statistics.median(p for _, p in rounds),
            "ratio": statistics.median(r / p for r, p in rounds), "rounds": rounds}



def run_peer(python: str, *, config: BenchConfig, script: Path = PEER_SCRIPT,
             timeout: float = 300.0) -> dict[str, Any]:
    """Run ``neurogym_peer.py`` under ``python``; its JSON, or ``{"error": ...}`` if it failed."""
    if not script.is_file():
        return {"error": f"peer script not found: {script}"}
    command = [python, str(script), "--repeats", str(config.repeats), "--min-time", str(config.min_time),
               "--env-block", str(config.env_block), "--seq-len", str(config.seq_len)]
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=timeout, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return {"error": f"{type(error).__name__}: {error}"}
    if done.returncode != 0:
        return {"error": f"exit code {done.returncode}: {done.stderr.strip()[-2000:]}"}
    try:
        result = json.loads(done.stdout)
    except json.JSONDecodeError:
        return {"error": f"no JSON on stdout: {done.stdout[-2000:]!r}"}
    try:
        result["import"] = bench_import(python, "neurogym", repeats=config.import_repeats)
    except (OSError, subprocess.CalledProcessError) as error:
        return {"error": f"timing `import neurogym` failed: {error}"}
    return result


def comparisons(results: dict[str, Any]) -> list[dict[str, Any]]:
    """Ratios ours ÷ NeuroGym (and the import-time and vectorisation bars), each with its bar."""
    rows: list[dict[str, Any]] = []

    def add(key: str, ours: float, theirs: float | None, value: float, label: str | None = None) -> None:
        text, op, threshold = BARS[key]
        met = value >= threshold if op == ">=" else value < threshold
        rows.append({"key": key, "what": label or text, "ours": ours, "neurogym": theirs, "value": value,
                     "bar": f"{op} {threshold:g}", "met": bool(met)})

    ours_import = results["import"]["seconds"]
    add("import_time", ours_import, None, ours_import)
    worst = min(results["vectorisation"], key=lambda row: row["ratio"])
    add("vectorisation", worst["ratio"], None, worst["ratio"],
        f"128 × trials(1) ÷ trials(128), worst task ({worst['task']})")
    peer = results.get("neurogym")
    if not peer or "error" in peer:
        return rows
    dataset = peer["dataset"]
    delivered, generated = dataset["trials_delivered_per_s"], dataset["trials_generated_per_s"]
    sampler_100, sampler_20 = results["sampler"]["neurogym_config"], results["sampler"]["default"]
    trials_100 = next(r for r in results["trials"]["neurogym_config"] if r["n"] == 128)

    def info(key: str, what: str, ours: float, theirs: float) -> None:
        rows.append({"key": key, "what": what, "ours": ours, "neurogym": theirs, "value": ours / theirs,
                     "bar": "", "met": None})

    paired = results.get("paired")
    if paired and "sampler" in paired:                # measured in alternating blocks: the fair ratio
        add("batch_vs_dataset", paired["sampler"]["ours"], paired["sampler"]["neurogym"], paired["sampler"]["ratio"])
    else:
        add("batch_vs_dataset", sampler_100["trials_per_s"], delivered, sampler_100["trials_per_s"] / delivered,
            BARS["batch_vs_dataset"][0].replace("alternating", "sequential"))
    info("batch_vs_dataset_generated", "same, ÷ trials NeuroGym generates (half never reach a batch)",
         sampler_100["trials_per_s"], generated)
    info("batch_vs_dataset_default_dt", "same, ours at default dt=20 (longer trials)", sampler_20["trials_per_s"],
         delivered)
    info("trials_vs_dataset", "one task.trials(128) call at dt=100 ÷ Dataset delivered", trials_100["trials_per_s"],
         delivered)
    info("batch_steps_vs_dataset", "trial steps/s, sampler at dt=100 ÷ Dataset steps generated",
         sampler_100["trials_per_s"] * sampler_100["steps_per_trial"], dataset["steps_generated_per_s"])
    paired = paired if paired and "error" not in paired else None
    for policy in POLICIES:
        for kind, bar in (("vector", "vector_vs_env"), ("single", "env_vs_env")):
            key = pair_key(kind, policy)
            if paired and key in paired:              # measured in alternating blocks: the fair ratio
                ours, theirs, ratio, how = paired[key]["ours"], paired[key]["neurogym"], paired[key]["ratio"], \
                    "alternating"
            else:
                peer_env = peer.get(pair_key("env", policy))
                if peer_env is None:                  # a peer that does not time this policy
                    continue
                ours = next(r for r in results["vector_env"][policy] if r["n"] == max(VECTOR_ENV_SIZES)
                            )["env_steps_per_s"] if kind == "vector" else results["single_env"][policy]["steps_per_s"]
                theirs = peer_env["steps_per_s"]
                ratio, how = ours / theirs, "sequential"
            what = BARS[bar][0].replace("alternating", how)
            if policy == "fixate":
                add(bar, ours, theirs, ratio, what)
            else:                                     # no bar set: reported beside the bars
                rows.append({"key": f"{key}_vs_env", "what": what.replace(" steps/s", f" steps/s, {policy} actions"),
                             "ours": ours, "neurogym": theirs, "value": ratio, "bar": "", "met": None})
    return rows


# ---------------------------------------------------------------------- the whole run
def run_benchmarks(config: BenchConfig | None = None, neurogym_python: str | None = None,
                   progress: Callable[[str], None] | None = None) -> dict[str, Any]:
    """Every measurement; the NeuroGym side too when ``neurogym_python`` is given. JSON-ready."""
    config = config or BenchConfig()
    say = progress or (lambda message: None)
    results: dict[str, Any] = {"machine": machine(), "config": asdict(config), "task": TASK_ID}
    say("trial generation")
    results["trials"] = {"default": bench_trials(config=config),
                         "neurogym_config": bench_trials(config=config, dt=NEUROGYM_DT)}
    results["sampler"] = {"default": bench_sampler(config=config),
                          "neurogym_config": bench_sampler(config=config, dt=NEUROGYM_DT)}
    say("environment steps")
    results["single_env"] = {policy: bench_single_env(policy=policy, config=config) for policy in POLICIES}
    results["vector_env"] = {policy: bench_vector_env(policy=policy, config=config) for policy in POLICIES}
    say("import time")
    results["import"] = bench_import(sys.executable, "neurotasks", repeats=config.import_repeats)
    say("vectorisation ratio of every task")
    results["vectorisation"] = bench_vectorisation(config=config)
    if neurogym_python:
        say(f"NeuroGym side ({neurogym_python})")
        results["neurogym"] = run_peer(neurogym_python, config=config)
        if "error" not in results["neurogym"]:
            say("our envs and NeuroGym's env in alternating blocks")
            try:
                with PeerEnv(neurogym_python) as peer:
                    results["paired"] = bench_env_pairs(peer, config=config)
                    results["paired"]["sampler"] = bench_sampler_pairs(peer, config=config)
            except (OSError, RuntimeError, ValueError) as error:
                results["paired"] = {"error": f"{type(error).__name__}: {error}"}
    results["comparisons"] = comparisons(results)
    return results


def machine() -> dict[str, Any]:
    return {"python": platform.python_version(), "numpy": np.__version__, "gymnasium": gym.__version__,
            "neurotasks": neurotasks.__version__, "cpus": os.cpu_count(), "platform": platform.platform(),
            "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
            "allocator_tuned": freed_memory_kept()}


# ---------------------------------------------------------------------- report
def _rate(x: float) -> str:
    return f"{x:,.0f}"


def format_report(results: dict[str, Any]) -> str:
    """The human-readable tables."""
    m, c = results["machine"], results["config"]
    lines = [f"neurotasks {m['neurotasks']} benchmark: Python {m['python']}, numpy {m['numpy']}, "
             f"gymnasium {m['gymnasium']}, {m['cpus']} CPUs, load average {m['load_average']}",
             f"median of {c['repeats']} timed blocks (each >= {c['min_time']} s) after a warm-up call",
             "allocator: glibc thresholds set by neurotasks.keep_freed_memory()" if m.get("allocator_tuned")
             else "allocator: left alone (neurotasks.keep_freed_memory() not called; --keep-freed-memory calls it)",
             "", f"1. Trial generation: task.trials(n) on {results['task']}",
             f"   {'configuration':<34}{'n':>6}{'trials/s':>13}{'steps/s':>14}{'steps/trial':>13}"]
    labels = {"default": "ours, default dt=20 ms", "neurogym_config": "ours at NeuroGym's dt=100 ms"}
    for key, label in labels.items():
        for row in results["trials"][key]:
            lines.append(f"   {label:<34}{row['n']:>6}{_rate(row['trials_per_s']):>13}"
                         f"{_rate(row['steps_per_s']):>14}{row['steps_per_trial']:>13.1f}")
    lines.append("   TrialSampler(task, 128): batches of 128 cut from blocks of trials (default block)")
    for key, label in labels.items():
        row = results["sampler"][key]
        lines.append(f"   {label + ', block ' + str(row['block']):<34}{row['batch_size']:>6}"
                     f"{_rate(row['trials_per_s']):>13}{_rate(row['trials_per_s'] * row['steps_per_trial']):>14}"
                     f"{row['steps_per_trial']:>13.1f}")
    lines += ["", "2. Environment steps (reset on termination / autoreset). Policies: fixate = action 0 every step;",
              "   random = uniform random actions, pre-drawn (the policy's cost is not timed); fixation breaks at",
              "   once, so a new trial starts almost every step. steps/episode counts an autoreset step too.",
              f"   {'environment':<50}{'policy':>8}{'envs':>6}{'env-steps/s':>14}{'steps/episode':>15}"]
    for policy, single in results["single_env"].items():
        lines.append(f"   {'gym.make(' + repr(results['task']) + ')':<50}{policy:>8}{1:>6}"
                     f"{_rate(single['steps_per_s']):>14}{single['steps_per_episode']:>15.1f}")
    for policy, vector_rows in results["vector_env"].items():
        for row in vector_rows:
            lines.append(f"   {'native vector env (vector_entry_point)':<50}{policy:>8}{row['n']:>6}"
                         f"{_rate(row['env_steps_per_s']):>14}{row['steps_per_episode']:>15.1f}")
    imp = results["import"]
    lines += ["", "3. Import time (fresh interpreter, minus a bare interpreter start)",
              f"   import neurotasks: {imp['seconds']:.3f} s (interpreter alone {imp['interpreter_seconds']:.3f} s; "
              f"torch/matplotlib/scipy imported: {imp['heavy_modules_imported']})",
              "", f"4. Vectorisation: {VECTORISATION_BATCH} calls of trials(1) ÷ one trials({VECTORISATION_BATCH})"
              f" (bar >= {BARS['vectorisation'][2]:g}x)",
              f"   {'task':<30}{'128 x trials(1)':>17}{'trials(128)':>13}{'ratio':>9}"]
    for row in results["vectorisation"]:
        flag = "" if row["ratio"] >= BARS["vectorisation"][2] else "  below bar"
        lines.append(f"   {row['task']:<30}{row['singles_seconds'] * 1e3:>14.2f} ms"
                     f"{row['batch_seconds'] * 1e3:>10.2f} ms{row['ratio']:>8.1f}x{flag}")
    peer = results.get("neurogym")
    lines.append("")
    if peer is None:
        lines.append("5. NeuroGym: not measured (set NEUROGYM_PYTHON or --neurogym-python to an interpreter "
                     "that can import neurogym)")
    elif "error" in peer:
        lines.append(f"5. NeuroGym: the peer run failed: {peer['error']}")
    else:
        d, e, i = peer["dataset"], peer["env"], peer["import"]
        lines += [f"5. NeuroGym {peer['neurogym']} (gymnasium {peer['gymnasium']}, Python {peer['python']}), "
                  f"{peer['env_id']} at its defaults (dt={peer['dt']:g} ms)",
                  f"   Dataset(batch_size={d['batch_size']}, seq_len={d['seq_len']}): cache {d['cache_len']} steps "
                  f"per env; {d['steps_per_trial']:.1f} steps/trial",
                  f"     trials generated/s {_rate(d['trials_generated_per_s'])}, delivered/s "
                  f"{_rate(d['trials_delivered_per_s'])} ({100 * d['delivered_fraction']:.0f} % of generated steps "
                  f"reach a batch), steps generated/s {_rate(d['steps_generated_per_s'])}",
                  f"   one ngym.make env ({e['wrappers']}): {_rate(e['steps_per_s'])} steps/s fixating"
                  + (f", {_rate(peer['env_random']['steps_per_s'])} steps/s with random actions (a new trial every "
                     f"{peer['env_random']['steps_per_trial']:.1f} steps: NeuroGym's default does not abort a "
                     f"trial when fixation breaks)" if "env_random" in peer else ""),
                  f"   import neurogym: {i['seconds']:.3f} s (heavy modules imported: {i['heavy_modules_imported']})"]
        paired = results.get("paired")
        if paired and "error" in paired:
            lines.append(f"   alternating blocks failed: {paired['error']}")
        elif paired:
            lines.append("   our envs timed between two blocks of NeuroGym's env (median over rounds; per-round "
                         "ratios: ours ÷ the mean NeuroGym rate around it)")
            for key, label, unit in (("single", "one gym.make env", "env-steps/s"),
                                     ("vector", "native vector env, 1024 envs", "env-steps/s"),
                                     ("single_random", "one gym.make env, random actions", "env-steps/s"),
                                     ("vector_random", "native vector env, 1024 envs, random actions", "env-steps/s"),
                                     ("sampler", "TrialSampler(128) at dt=100 vs Dataset delivered", "trials/s")):
                if key not in paired:
                    continue
                row = paired[key]
                ratios = ", ".join(f"{r / p:.1f}" for r, p in row["rounds"])
                lines.append(f"     {label}: {_rate(row['ours'])} vs {_rate(row['neurogym'])} {unit}, "
                             f"ratio {row['ratio']:.2f} (rounds: {ratios})")
    width = max([len("measure"), *(len(row["what"]) for row in results["comparisons"])]) + 2
    lines += ["", "6. Bars", f"   {'measure':<{width}}{'ours':>12}{'NeuroGym':>12}{'value':>10}  {'bar':<8}met"]
    for row in results["comparisons"]:
        theirs = "" if row["neurogym"] is None else _fmt(row["neurogym"])
        met = "" if row["met"] is None else ("yes" if row["met"] else "NO")
        digits = 2 if row["value"] < 1 else 1
        value = f"{row['value']:.3f} s" if row["key"] == "import_time" else f"{row['value']:.{digits}f}x"
        lines.append(f"   {row['what']:<{width}}{_fmt(row['ours']):>12}{theirs:>12}{value:>10}  {row['bar']:<8}{met}")
    return "\n".join(lines)


def _fmt(x: float) -> str:
    return f"{x:.3f}" if x < 10 else _rate(x)


def save_json(path: str | os.PathLike, results: dict[str, Any]) -> None:
    """Write ``results`` as JSON, atomically: to a temporary file in the same folder, moved into
    place once whole, so a reader sees the old file or the new one, never half of one."""
    text = json.dumps(results, indent=2) + "\n"        # fails (TypeError) before anything is written
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.chmod(tmp, 0o644)                             # mkstemp makes owner-only files
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise


# ---------------------------------------------------------------------- command line
def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The options of ``benchmarks/bench_tasks.py`` and ``neurotasks speed`` (the same ones)."""
    parser.add_argument("--json", metavar="PATH", help="also save every number as JSON (atomic write)")
    parser.add_argument("--neurogym-python", metavar="PYTHON", default=os.environ.get("NEUROGYM_PYTHON"),
                        help="an interpreter that can import neurogym (default: $NEUROGYM_PYTHON); "
                             "runs benchmarks/neurogym_peer.py with it for the side-by-side")
    parser.add_argument("--repeats", type=int, default=BenchConfig.repeats, help="timed blocks per figure (median)")
    parser.add_argument("--min-time", type=float, default=BenchConfig.min_time,
                        help="seconds each timed block lasts at least")
    parser.add_argument("--quick", action="store_true", help="tiny blocks: checks the script runs, numbers are noise")
    parser.add_argument("--keep-freed-memory", action="store_true",
                        help="call neurotasks.keep_freed_memory() first (glibc keeps freed memory for reuse: "
                             "a process-wide setting that import neurotasks does not make)")


def run_from_args(args: argparse.Namespace) -> int:
    config = BenchConfig.quick() if args.quick else BenchConfig(repeats=args.repeats, min_time=args.min_time)
    if config.repeats < 1 or config.min_time < 0:
        raise SystemExit("--repeats must be >= 1 and --min-time >= 0")
    if args.keep_freed_memory:
        neurotasks.keep_freed_memory()
    results = run_benchmarks(config, args.neurogym_python,
                             progress=lambda message: print(f"[speed] {message}", file=sys.stderr, flush=True))
    print(format_report(results))
    if args.json:
        save_json(args.json, results)
        print(f"\nsaved {args.json}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    add_arguments(parser)
    return run_from_args(parser.parse_args(argv))
