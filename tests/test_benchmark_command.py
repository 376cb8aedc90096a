"""``neurotasks benchmark``: arguments, the cell table, results and figures, and real runs on Ray.

The Ray tests run a tiny benchmark (2 tasks × 1 seed, 2,000 training trials) three times: once on a
cluster of this module's own (``ray start --head --block``, joined with ``--address``) with the E/I
network and PPO, one cell's folder corrupt so that it fails; then with the E/I network, in a subprocess
with the command's own local Ray, interrupted by Ctrl-C and run again to resume. Each command run pays
its workers' torch import.
Every Ray process these tests start carries a marker in its environment, so "no Ray process is left"
is checked on exactly those processes, whatever else runs on the machine.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import importlib.util
import io
import json
import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

from agents import runs
from agents.benchmark import cells as cells_lib
from agents.benchmark import presets, results, runner, zoo
from agents.benchmark.cells import Budget, Cell
from agents.cli import main
from agents.commands import benchmark as command

needs_ray = pytest.mark.skipif(importlib.util.find_spec("ray") is None, reason="Ray is not installed")

MARK = "NEUROTASKS_BENCHMARK_TEST_MARK"
#: the tiny benchmark of these tests: 2 tasks × 1 seed, 2,000 training trials per run
TINY = ["--tasks", "PerceptualDecision-v0,ContextDecision-v0", "--seeds", "1", "--fit-trials", "200",
        "--max-trials", "2000"]
#: on the cluster: the E/I network and PPO; on the local Ray (interrupted and resumed): the E/I network
REFERENCE = [*TINY, "--models", "eirnn,ppo"]
LOCAL = [*TINY, "--models", "eirnn"]
#: results.csv columns that are wall-clock times (they differ from run to run)
TIMES = ("wall_s", "wall_s_to_criterion")


# ---------------------------------------------------------------------- helpers
def marked_processes(marker: str) -> list[str]:
    """Live processes (zombies excluded) whose environment carries ``MARK=marker``: every Ray process a test
    started, and nothing else."""
    needle = f"{MARK}={marker}".encode()
    found = []
    for entry in os.scandir("/proc"):
        if not entry.name.isdigit():
            continue
        try:
            with open(f"/proc/{entry.name}/environ", "rb") as f:
                if needle not in f.read().split(b"\0"):
                    continue
            with open(f"/proc/{entry.name}/stat", encoding="utf-8") as f:
                state = f.read().rsplit(")", 1)[1].split()[0]
            with open(f"/proc/{entry.name}/cmdline", "rb") as f:
                cmd = f.read().replace(b"\0", b" ").decode(errors="replace")[:120]
        except OSError:                        # it ended while we looked
            continue
        if state != "Z":
            found.append(f"{entry.name} {cmd}")
    return found


def wait_until_gone(marker: str, seconds: float = 30.0) -> list[str]:
    deadline = time.monotonic() + seconds
    while (left := marked_processes(marker)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return left


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(argv)
    return code, out.getvalue(), err.getvalue()


def read_csv(path: Path) -> list[dict[str, str]]:
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


def without_times(rows: list[dict[str, str]]) -> list[dict[str, str]]:
    return [{k: v for k, v in row.items() if k not in TIMES} for row in rows]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def ray_env(tmp_path_factory):
    """Environment of the Ray processes these tests start: a marker, and a token of their own (Ray's token
    authentication, without touching ~/.ray)."""
    token = tmp_path_factory.mktemp("ray-token") / "auth_token"
    token.write_text(secrets.token_hex(32), encoding="utf-8")
    return {"RAY_AUTH_MODE": "token", "RAY_AUTH_TOKEN_PATH": str(token), "RAY_USAGE_STATS_ENABLED": "0"}


@pytest.fixture(scope="module")
def cluster(ray_env, tmp_path_factory):
    """A local Ray cluster for the module (``ray start --head --block``); its address. Stopped at the end, and
    checked to leave no process behind. (Ray reads RAY_AUTH_MODE when it is imported: this fixture sets it
    before the test process first imports ray.)"""
    if importlib.util.find_spec("ray") is None:
        pytest.skip("Ray is not installed")
    marker = f"cluster-{secrets.token_hex(6)}"
    log = tmp_path_factory.mktemp("ray-cluster") / "ray_start.log"
    port = _free_port()
    ray_cli = Path(sys.executable).with_name("ray")
    with open(log, "wb") as sink:
        head = subprocess.Popen([str(ray_cli), "start", "--head", "--block", "--num-cpus", "2", "--port", str(port),
                                 "--include-dashboard", "false", "--disable-usage-stats"],
                                env={**os.environ, **ray_env, MARK: marker}, stdout=sink, stderr=subprocess.STDOUT,
                                start_new_session=True)
    try:
        deadline = time.monotonic() + 180
        while b"Ray runtime started" not in log.read_bytes():
            if head.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"ray start failed:\n{log.read_text(errors='replace')[-3000:]}")
            time.sleep(0.2)
        with pytest.MonkeyPatch.context() as mp:      # the in-process driver joins with the same token
            for key, value in ray_env.items():
                mp.setenv(key, value)
            yield f"127.0.0.1:{port}"
    finally:
        head.terminate()
        try:
            head.wait(timeout=60)
        except subprocess.TimeoutExpired:
            head.kill()
        left = wait_until_gone(marker)
        for line in left:                             # ours: leave the machine clean, then fail
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(line.split()[0]), signal.SIGKILL)
        assert not left, f"Ray processes survived the cluster's stop: {left}"


BROKEN = Cell("ContextDecision-v0", "eirnn", 0)      #: the cell the reference run finds corrupt
GOOD = Cell("PerceptualDecision-v0", "eirnn", 0)


@pytest.fixture(scope="module")
def reference(cluster, tmp_path_factory):
    """The tiny benchmark, run once to the end on the module's cluster, with one cell's run folder corrupt
    beforehand (its config.json is not JSON): (out, exit code, stdout, stderr)."""
    out = tmp_path_factory.mktemp("reference") / "bench"
    BROKEN.folder(out).mkdir(parents=True)
    (BROKEN.folder(out) / runs.CONFIG).write_text("{ not json", encoding="utf-8")
    code, stdout, stderr = run_cli(["benchmark", *REFERENCE, "--out", str(out), "--address", cluster])
    return out, code, stdout, stderr


# ---------------------------------------------------------------------- arguments (no Ray)
@pytest.fixture
def no_ray(monkeypatch):
    """Fail the test if the command gets as far as starting Ray."""
    def refuse(*args, **kwargs):
        raise AssertionError("Ray was started")
    monkeypatch.setattr(runner, "run_cells", refuse)


@pytest.mark.parametrize(("argv", "message"), [
    (["--tasks", "NoSuchTask-v0"], "--tasks: unknown task id 'NoSuchTask-v0'"),
    (["--tasks", "PerceptualDecision-v0", "--models", "transformer"], "--models: unknown model 'transformer'"),
    (["--tasks", "PerceptualDecision-v0", "--seeds", "0"], "--seeds must be a count >= 1"),
    (["--tasks", "PerceptualDecision-v0", "--seeds", "-2"], "--seeds must be a count >= 1"),
    (["--tasks", "PerceptualDecision-v0", "--seeds", "two"], "--seeds must be a count >= 1"),
    (["--tasks", "PerceptualDecision-v0", "--seeds", "1,-1"], "--seeds must be"),
    (["--tasks", "PerceptualDecision-v0", "--seeds", "3,3"], "--seeds lists a seed twice"),
    (["--tasks", "PerceptualDecision-v0", "--max-trials", "0"], "--max-trials must be >= 1"),
    (["--tasks", "PerceptualDecision-v0", "--max-minutes", "0"], "--max-minutes must be > 0"),
    (["--tasks", "PerceptualDecision-v0", "--training-preset", "turbo"], "--training-preset: unknown preset 'turbo'"),
    (["--tasks", "PerceptualDecision-v0", "--cpus-per-cell", "0"], "--cpus-per-cell must be >= 1"),
    (["--tasks", "PerceptualDecision-v0", "--fit-trials", "0"], "--fit-trials must be >= 1"),
    (["--tasks", "PerceptualDecision-v0", "--cpus-per-cell", "4096"], "is more than this machine's"),
    (["--models", "eirnn"], "give --tasks"),
])
def test_bad_arguments_are_refused_before_ray_starts(tmp_path, no_ray, argv, message):
    out = tmp_path / "bench"
    code, stdout, stderr = run_cli(["benchmark", *argv, "--out", str(out)])
    assert code == 2
    assert stderr.startswith("neurotasks benchmark: error: ") and message in stderr, stderr
    assert not out.exists()                           # nothing written for a refused benchmark


@pytest.fixture
def pending_model(monkeypatch):
    """A model of the table whose code has not landed (as rnn, gru ... were before the model zoo): "future"."""
    entrant = zoo.Entrant("future", "supervised", "a model still to come", pending="the future model (issue 99)")
    monkeypatch.setitem(zoo.ENTRANTS, "future", entrant)
    monkeypatch.setitem(presets.PRESETS, "tomorrow", presets.BenchmarkPreset(
        "one task × the future model", tasks=("PerceptualDecision-v0",), models=("eirnn", "future"), seeds=1,
        max_minutes=1.0, max_trials=None))
    return entrant


def test_models_not_yet_available_are_refused_before_ray_starts(tmp_path, no_ray, pending_model):
    assert not pending_model.available and "future" not in zoo.available()
    with pytest.raises(ValueError, match=r"model 'future' is not available yet \(it needs the future model \(issue "
                                         r"99\)\); available models: eirnn, "):
        zoo.resolve("future")
    code, _, stderr = run_cli(["benchmark", "--tasks", "PerceptualDecision-v0", "--models", "eirnn,future",
                               "--out", str(tmp_path / "b")])
    assert code == 2 and "--models: model 'future' is not available yet (it needs the future model" in stderr
    args = _args(preset="tomorrow")
    with pytest.raises(command.UsageError, match="--preset tomorrow: model 'future' is not available yet"):
        command.resolve_settings(args)
    with pytest.raises(ValueError, match=r"unknown model 'mlp'; .* \(not yet available: future\)"):
        zoo.resolve("mlp")
    assert not (tmp_path / "b").exists()


def test_an_unknown_preset_is_an_argparse_error(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["benchmark", "--preset", "huge"])
    assert exit_info.value.code == 2 and "invalid choice: 'huge'" in capsys.readouterr().err


def test_help_lists_every_model_and_preset(capsys, pending_model):
    with pytest.raises(SystemExit):
        main(["benchmark", "--help"])
    text = capsys.readouterr().out
    for name in [*zoo.ENTRANTS, *presets.PRESETS]:
        assert f"  {name} " in text
    assert "a model still to come [not yet: needs the future model (issue 99)]" in text   # pending ones say so


def test_seeds_are_a_count_or_a_list():
    assert command.parse_seeds("3") == (0, 1, 2)
    assert command.parse_seeds("0,4,7") == (0, 4, 7)
    assert command.parse_seeds("5,") == (5,)
    assert command.parse_seeds(" 2 , 9 ") == (2, 9)


def _args(**kwargs) -> argparse.Namespace:
    defaults = {"preset": None, "tasks": None, "models": None, "seeds": None, "max_minutes": None,
                "max_trials": None, "training_preset": "fast", "fit_trials": 1000, "address": None,
                "cpus_per_cell": 1}
    return argparse.Namespace(**{**defaults, **kwargs})


def test_settings_from_arguments_and_presets():
    assert command.resolve_settings(_args(tasks=["PerceptualDecision-v0"])).models == tuple(zoo.available())
    settings = command.resolve_settings(_args(tasks=["PerceptualDecision-v0,ContextDecision-v0",
                                                     "neurotasks:PerceptualDecision-v0"], models=["eirnn", "eirnn"],
                                              seeds="2"))
    assert settings.tasks == ("PerceptualDecision-v0", "ContextDecision-v0")    # duplicates dropped
    assert settings.models == ("eirnn",)
    assert settings.budget == Budget(max_minutes=command.DEFAULT_MAX_MINUTES, max_trials=None, preset="fast")
    assert [c.name for c in settings.cells()] == [
        "PerceptualDecision-v0_eirnn_seed0", "PerceptualDecision-v0_eirnn_seed1",
        "ContextDecision-v0_eirnn_seed0", "ContextDecision-v0_eirnn_seed1"]
    quick = command.resolve_settings(_args(preset="quick"))
    preset = presets.PRESETS["quick"]
    assert quick.tasks == preset.tasks and quick.models == tuple(zoo.available("supervised"))
    assert quick.seeds == (0,) and quick.budget.max_minutes == preset.max_minutes
    assert command.resolve_settings(_args(preset="quick", seeds="0,5,", max_trials=500)).seeds == (0, 5)
    only_trials = command.resolve_settings(_args(preset="quick", max_trials=500)).budget
    assert (only_trials.max_minutes, only_trials.max_trials) == (None, 500)   # a budget given replaces the preset's


def test_the_saved_command_makes_the_same_benchmark():
    settings = command.resolve_settings(_args(tasks=["ContextDecision-v0"], seeds="1,3", max_minutes=2.5,
                                              max_trials=900, training_preset="pycog", fit_trials=300))
    argv = command.Settings.command(settings, "runs/x").split()[2:]
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="command")
    command.add_parser(sub, "benchmark", "")
    again = parser.parse_args(["benchmark", *argv])
    assert command.resolve_settings(again) == settings and again.out == "runs/x"


def test_zoo_resolves_every_model_of_the_issue():
    assert zoo.available("supervised") == ["eirnn", "rnn", "gru", "lstm", "lowrank"]
    assert zoo.available("rl") == ["ppo", "recurrent-ppo", "ei-reinforce"]
    assert zoo.resolve("recurrent-ppo").evaluate is zoo.evaluate_actions
    assert zoo.resolve("gru").evaluate is zoo.evaluate_outputs
    with pytest.raises(ValueError) as error:
        zoo.resolve("mlp")
    assert str(error.value) == ("unknown model 'mlp'; available models: eirnn, rnn, gru, lstm, lowrank, ppo, "
                                "recurrent-ppo, ei-reinforce")
    decision = command.resolve_settings(_args(preset="decision"))
    assert decision.models == ("eirnn", "rnn", "gru", "lowrank", "recurrent-ppo") and decision.seeds == (0, 1, 2)
    assert decision.tasks == presets.DECISION_TASKS and decision.budget.max_minutes == 10


def test_budget_errors():
    with pytest.raises(ValueError, match="max_minutes must be > 0"):
        Budget(max_minutes=0)
    with pytest.raises(ValueError, match="max_trials must be a positive int"):
        Budget(max_trials=2.5)
    with pytest.raises(ValueError, match="fit_trials must be a positive int"):
        Budget(fit_trials=0)


def test_ray_missing_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "ray", None)     # `import ray` raises ImportError
    code, _, stderr = run_cli(["benchmark", "--tasks", "PerceptualDecision-v0", "--out", str(tmp_path / "b")])
    assert code == 1 and "which is not installed" in stderr and "pip install 'neurotasks[agents]'" in stderr


def test_a_missing_extra_is_named_before_ray_starts(tmp_path, no_ray, monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None if name == "sb3_contrib" else real(name, *a))
    code, _, stderr = run_cli(["benchmark", "--tasks", "PerceptualDecision-v0", "--models", "recurrent-ppo",
                               "--out", str(tmp_path / "b")])
    assert code == 2 and "module 'sb3_contrib' is not installed): pip install 'neurotasks[agents]'" in stderr
    assert not (tmp_path / "b").exists()


def test_out_must_be_a_folder_and_free(tmp_path, no_ray):
    from agents.run_lock import RunLock

    (tmp_path / "file").write_text("x", encoding="utf-8")
    code, _, stderr = run_cli(["benchmark", "--tasks", "PerceptualDecision-v0", "--out", str(tmp_path / "file")])
    assert code == 2 and "is a file, not a folder" in stderr
    with RunLock(tmp_path / "busy"):                  # another command on the same folder
        code, _, stderr = run_cli(["benchmark", "--tasks", "PerceptualDecision-v0", "--out", str(tmp_path / "busy")])
    assert code == 2 and f"is in use by process {os.getpid()}" in stderr
    assert not (tmp_path / "busy" / command.CONFIG).exists()
    for text in ("{ not json", '{"settings": 3}', "[]"):
        (tmp_path / "busy" / command.CONFIG).write_text(text, encoding="utf-8")
        code, _, stderr = run_cli(["benchmark", "--tasks", "PerceptualDecision-v0", "--out", str(tmp_path / "busy")])
        assert code == 2 and "benchmark.json is corrupt; remove it, or use another --out" in stderr


# ---------------------------------------------------------------------- results and figures from run folders
def _fake_cell(out: Path, cell: Cell, *, reached: int | None = None, trials: int = 5000, final: float = 80.0,
               threshold: float | None = 8.0, error: str | None = None, history: bool = True) -> None:
    folder = cell.folder(out)
    folder.mkdir(parents=True)
    if error:
        runs.write_json_atomic(folder / cells_lib.ERROR, {"error": error, "traceback": "..."})
        return
    runs.write_json_atomic(folder / cells_lib.METRICS, {
        "criterion": "mean of last 5 percent_correct > 85", "criterion_met": reached is not None,
        "stopped": "criterion" if reached else "max_trials", "trials_to_criterion": reached,
        "updates_to_criterion": reached // 64 if reached else None, "wall_s_to_criterion": 1.5 if reached else None,
        "trials": trials, "updates": trials // 64, "wall_s": 2.0,
        "final": {"loss": 0.1, "percent_correct": final, "min_condition_percent_correct": final - 20}})
    runs.write_json_atomic(folder / cells_lib.PSYCHOMETRIC, {
        "axis": "signed coherence (%)" if threshold else None, "bias": 0.5 if threshold else None,
        "threshold": threshold, "lapse": 0.01, "n_trials": 1000, "note": ""})
    if history:
        runs.write_history_atomic(folder / runs.HISTORY, [
            {"updates": i, "trials": 1280 * i, "percent_correct": 50 + 10 * i} for i in range(4)])


def test_results_table_from_run_folders(tmp_path):
    out = tmp_path
    pd = [Cell("PerceptualDecision-v0", "eirnn", s) for s in range(3)]
    _fake_cell(out, pd[0], reached=1000, final=90.0, threshold=6.0)
    _fake_cell(out, pd[1], reached=4000, final=88.0, threshold=10.0)
    _fake_cell(out, pd[2], reached=2000, final=86.0, threshold=8.0)
    wm = [Cell("ParametricWorkingMemory-v0", "eirnn", s) for s in range(3)]
    _fake_cell(out, wm[0], trials=3000, final=70.0, threshold=None)
    _fake_cell(out, wm[1], error="RuntimeError: training diverged")
    runs.write_json_atomic(pd[2].folder(out) / cells_lib.ERROR, {"error": "stale: a rival run of the cell"})
    rows = results.collect([*pd, *wm], out)            # wm[2] was never run; pd[2] finished all the same
    assert [r["status"] for r in rows] == ["reached"] * 3 + ["not reached", "failed", "not run"]
    assert rows[0]["run"] == "runs/PerceptualDecision-v0_eirnn_seed0"
    assert rows[3]["final_metric"] == "min_condition_percent_correct" and rows[3]["final_value"] == 50.0
    assert rows[3]["psychometric_axis"] is None and rows[3]["threshold"] is None
    paths = results.write_results(out, rows, "neurotasks benchmark ...", "2 tasks")
    table = read_csv(paths[0])
    assert list(table[0]) == list(results.COLUMNS) and len(table) == 6
    assert table[0]["reached_criterion"] == "yes" and table[3]["reached_criterion"] == "no"
    assert table[4]["error"] == "RuntimeError: training diverged" and table[5]["trials"] == ""
    md = paths[1].read_text(encoding="utf-8")
    assert "`neurotasks benchmark ...`" in md
    assert ("| PerceptualDecision-v0 | eirnn | 3/3 | 2,000 (1,000–4,000) | 31 (15–62) | 1.5 | "
            "percent correct | 88 (86–90) | 8 (6–10) | 0.5 |") in md
    assert "| ParametricWorkingMemory-v0 | eirnn | 0/3 | — | — | — | min condition percent correct | 50 | — | — |" in md
    assert "- ParametricWorkingMemory-v0 eirnn seed 1: RuntimeError: training diverged" in md
    assert "Not run yet (1; the same command resumes them): ParametricWorkingMemory-v0 eirnn seed 2" in md


def test_figures_from_run_folders(tmp_path):
    from agents.benchmark.figures import write_figures

    cells = [Cell("PerceptualDecision-v0", "eirnn", 0), Cell("PerceptualDecision-v0", "eirnn", 1),
             Cell("DelayedReach-v0", "eirnn", 0)]
    _fake_cell(tmp_path, cells[0], reached=2000)
    _fake_cell(tmp_path, cells[1], history=False)       # a run without history.csv is left out of its panel
    paths = write_figures(tmp_path, cells, results.collect(cells, tmp_path))   # DelayedReach: never run
    assert [p.name for p in paths] == ["performance.png", "trials_to_criterion.png"]
    for path in paths:
        assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


# ---------------------------------------------------------------------- orchestration, with a stand-in for Ray
class _Ref:
    def __init__(self, outcome):
        self.outcome = outcome


class FakeRay:
    """Records what the runner asks of Ray; ``wait`` hands back one finished task at a time."""

    class exceptions:                  # as ray.exceptions
        class RayError(Exception):
            pass

    def __init__(self, interrupt_after: int | None = None, crash: bool = False):
        self.calls: list = []
        self.interrupt_after, self.crash, self.waits = interrupt_after, crash, 0

    def init(self, **kwargs):
        self.calls.append(("init", kwargs))

    def cluster_resources(self):
        return {"CPU": 2.0}

    def remote(self, **options):
        self.calls.append(("remote", options))
        fake = self

        class Remote:
            def options(self, **kwargs):
                return self

            def remote(self, cell, budget, out, **kwargs):
                fake.calls.append(("submit", cell.name, kwargs))
                return _Ref({"status": "finished", "error": None, "seconds": 0.0})
        return lambda fn: Remote()

    def wait(self, refs, num_returns, timeout):
        self.waits += 1
        if self.interrupt_after is not None and self.waits > self.interrupt_after:
            raise KeyboardInterrupt
        return refs[:1], refs[1:]

    def get(self, ref):
        if self.crash:
            raise self.exceptions.RayError("the worker died unexpectedly")
        return ref.outcome

    def cancel(self, ref, force):
        self.calls.append(("cancel", force))

    def shutdown(self):
        self.calls.append(("shutdown",))


CELLS = [Cell("PerceptualDecision-v0", "eirnn", s) for s in range(3)]


def test_runner_starts_a_local_ray_declares_cpus_and_stops_it(tmp_path, monkeypatch):
    fake = FakeRay()
    monkeypatch.setattr(runner, "import_ray", lambda: fake)
    seen = []
    outcomes = runner.run_cells(CELLS, Budget(max_trials=10), tmp_path, cpus_per_cell=2,
                                report=lambda cell, outcome: seen.append(cell))
    assert seen == CELLS and all(o["status"] == "finished" for o in outcomes.values())
    init = fake.calls[0][1]
    assert init["address"] == "local" and init["num_cpus"] == runner.machine_cpus()
    assert init["_node_ip_address"] == "127.0.0.1" and init["include_dashboard"] is False
    assert ("remote", {"num_cpus": 2, "max_retries": 0}) in fake.calls
    assert [c[2]["threads"] for c in fake.calls if c[0] == "submit"] == [2, 2, 2]
    assert fake.calls[-1] == ("shutdown",)


def test_runner_joins_a_cluster_and_stops_ray_on_every_exit(tmp_path, monkeypatch):
    fake = FakeRay()
    monkeypatch.setattr(runner, "import_ray", lambda: fake)

    def broken_report(cell, outcome):
        raise ValueError("display broke")
    with pytest.raises(ValueError, match="display broke"):
        runner.run_cells(CELLS, Budget(max_trials=10), tmp_path, address="head.invalid:6379", report=broken_report)
    assert fake.calls[0] == ("init", {"address": "head.invalid:6379", "log_to_driver": False,
                                      "logging_level": 40})
    assert fake.calls[-1] == ("shutdown",)
    assert [c for c in fake.calls if c[0] == "cancel"] == [("cancel", True)] * 2    # the two still pending

    fake = FakeRay(interrupt_after=1)
    monkeypatch.setattr(runner, "import_ray", lambda: fake)
    with pytest.raises(KeyboardInterrupt):                 # a local Ray: its shutdown ends the cells
        runner.run_cells(CELLS, Budget(max_trials=10), tmp_path)
    assert fake.calls[-1] == ("shutdown",) and ("cancel", True) not in fake.calls


def test_runner_reports_a_ray_that_cannot_start_or_be_joined(tmp_path, monkeypatch):
    fake = FakeRay()

    def unreachable(**kwargs):
        raise ConnectionError("Failed to connect to Ray cluster at head.invalid:6379\nand many more lines")
    fake.init = unreachable
    monkeypatch.setattr(runner, "import_ray", lambda: fake)
    expected = ("could not join the Ray cluster at head.invalid:6379: ConnectionError: Failed to connect to Ray "
                "cluster at head.invalid:6379")
    with pytest.raises(runner.RayUnavailable) as error:
        runner.run_cells(CELLS, Budget(max_trials=10), tmp_path, address="head.invalid:6379")
    assert str(error.value) == expected                # its first line only
    assert fake.calls[-1] == ("shutdown",)


def test_runner_records_a_worker_that_died(tmp_path, monkeypatch):
    monkeypatch.setattr(runner, "import_ray", lambda: FakeRay(crash=True))
    outcomes = runner.run_cells(CELLS[:1], Budget(max_trials=10), tmp_path)
    assert outcomes[CELLS[0]]["status"] == "failed" and "the worker died" in outcomes[CELLS[0]]["error"]
    saved = json.loads((CELLS[0].folder(tmp_path) / cells_lib.ERROR).read_text(encoding="utf-8"))
    assert saved["error"] == "RayError: the worker died unexpectedly"


def test_sigterm_becomes_a_clean_exit_inside_the_runner():
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(SystemExit) as exit_info, runner.sigterm_as_exit():
        os.kill(os.getpid(), signal.SIGTERM)
        time.sleep(5)                                  # the handler interrupts this
    assert exit_info.value.code == 128 + signal.SIGTERM
    assert signal.getsignal(signal.SIGTERM) is before


# ---------------------------------------------------------------------- real runs on Ray
@needs_ray
def test_tiny_benchmark_on_a_cluster_with_a_failed_cell(reference):
    """2 tasks × 2 models (eirnn, ppo) × 1 seed on the module's cluster (--address): the corrupt cell fails, is
    reported on screen, in results.csv, results.md and its error.json, and the other cells still finish."""
    out, code, stdout, stderr = reference
    assert code == 1, stderr
    assert "1 cell failed (see results.csv" in stderr
    assert "running 4 cells on the Ray cluster at" in stdout
    assert all(f"[{k}/4] " in stdout for k in range(1, 5))      # one line per finished cell
    assert "ContextDecision-v0 eirnn seed 0: FAILED: ValueError: " in stdout
    rows = read_csv(out / results.RESULTS_CSV)
    assert [(r["task"], r["model"], r["seed"]) for r in rows] == [
        ("PerceptualDecision-v0", "eirnn", "0"), ("PerceptualDecision-v0", "ppo", "0"),
        ("ContextDecision-v0", "eirnn", "0"), ("ContextDecision-v0", "ppo", "0")]
    good, failed = rows[0], rows[2]
    for row in (rows[0], rows[1], rows[3]):
        assert row["status"] in ("reached", "not reached") and row["error"] == ""
        assert int(row["trials"]) >= 2000 and float(row["wall_s"]) > 0
        assert row["stopped"] in ("criterion", "max_trials")
        assert row["final_metric"] == "percent_correct" and 0 <= float(row["final_value"]) <= 100
        assert row["psychometric_axis"].endswith("signed coherence (%)")
    assert good["psychometric_axis"] == "signed coherence (%)" and float(good["threshold"]) > 0 and good["bias"]
    assert failed["status"] == "failed" and "corrupt" in failed["error"] and failed["trials"] == ""
    assert "Traceback" in json.loads((BROKEN.folder(out) / cells_lib.ERROR).read_text(encoding="utf-8"))["traceback"]
    md = (out / results.RESULTS_MD).read_text(encoding="utf-8")
    assert md in stdout                                 # the table is shown too
    assert md.count("| eirnn | ") == 2 and md.count("| ppo | ") == 2
    assert "Failed runs:\n\n- ContextDecision-v0 eirnn seed 0: ValueError: " in md
    config = json.loads((out / command.CONFIG).read_text(encoding="utf-8"))
    assert config["settings"] == {"tasks": ["PerceptualDecision-v0", "ContextDecision-v0"],
                                  "models": ["eirnn", "ppo"],
                                  "seeds": [0], "max_minutes": None, "max_trials": 2000, "training_preset": "fast",
                                  "fit_trials": 200}
    assert config["command"].startswith("neurotasks benchmark --tasks PerceptualDecision-v0,ContextDecision-v0")
    for name in ("performance.png", "trials_to_criterion.png"):
        assert (out / "figures" / name).read_bytes()[:4] == b"\x89PNG"
    folder = GOOD.folder(out)
    assert cells_lib.is_finished(folder) and (folder / cells_lib.LOG).stat().st_size > 0
    assert runs.RunDir(folder).config["task"]["id"] == GOOD.task


@needs_ray
def test_a_rerun_skips_finished_cells_and_tries_failed_ones_again(reference, monkeypatch):
    out = reference[0]
    submitted = []
    monkeypatch.setattr(runner, "run_cells", lambda cells, *args, **kwargs: submitted.extend(cells))  # no Ray
    finished = (GOOD.folder(out) / cells_lib.METRICS).stat().st_mtime_ns
    code, stdout, _ = run_cli(["benchmark", *REFERENCE, "--out", str(out), "--no-figures"])
    assert submitted == [BROKEN]
    assert "3 finished already: skipped" in stdout and "running 1 cell " in stdout
    assert (GOOD.folder(out) / cells_lib.METRICS).stat().st_mtime_ns == finished
    assert code == 1                                   # the failed cell was not run again here: still failed


@needs_ray
def test_other_settings_on_the_same_folder_are_refused(reference, no_ray):
    out = reference[0]
    saved = (out / command.CONFIG).read_bytes()
    other = [*REFERENCE]
    other[other.index("--max-trials") + 1] = "3000"
    code, _, stderr = run_cli(["benchmark", *other, "--out", str(out)])
    assert code == 2
    assert "holds a different benchmark (max_trials 2000 there, 3000 now); use another --out" in stderr
    assert (out / command.CONFIG).read_bytes() == saved


@needs_ray
def test_an_interrupted_benchmark_resumes_to_the_same_table(reference, ray_env, tmp_path):
    """Ctrl-C on the command (SIGINT to its process group, as a terminal sends it) while a cell trains on the
    command's own local Ray: exit 130, no Ray process left. The same command again (a local Ray started and
    stopped cleanly) resumes the interrupted cell from its checkpoint; its row is the uninterrupted run's."""
    out = tmp_path / "bench"
    marker = f"local-{secrets.token_hex(6)}"
    env = {**os.environ, **ray_env, MARK: marker}
    argv = [sys.executable, "-m", "agents.cli", "benchmark", *LOCAL, "--out", str(out), "--no-figures"]
    proc = subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while not (GOOD.folder(out) / runs.HISTORY).is_file():       # its first checkpoint
            assert proc.poll() is None and time.monotonic() < deadline, proc.communicate()
            time.sleep(0.02)
        os.killpg(proc.pid, signal.SIGINT)
        _, stderr = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
    assert proc.returncode == 130, stderr
    assert "interrupted; Ray stopped. Run the same command again to resume" in stderr
    assert not wait_until_gone(marker), "Ray processes survived Ctrl-C"
    assert not (GOOD.folder(out) / cells_lib.METRICS).is_file(), "the cell was not caught half-way"

    rerun = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr
    assert "on a local Ray (" in rerun.stdout
    assert not wait_until_gone(marker), "Ray processes survived the command"
    assert "resuming" in (GOOD.folder(out) / cells_lib.LOG).read_text(encoding="utf-8")
    rows = without_times(read_csv(out / results.RESULTS_CSV))
    uninterrupted = without_times(read_csv(reference[0] / results.RESULTS_CSV))
    assert [r["model"] for r in rows] == ["eirnn", "eirnn"]
    assert rows[0] == uninterrupted[0]                  # PerceptualDecision-v0 eirnn seed 0, on the cluster
    assert rows[1]["status"] in ("reached", "not reached") and rows[1]["psychometric_axis"].startswith("relevant")
