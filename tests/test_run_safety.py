"""Run folders under attack and accident: crafted checkpoints, two writers, a full disk, kills in every window.

Each test either injects the failure for real (a second process, a kill -9, a file-size limit) or
patches the one call where it would happen, then checks the folder and a rerun of the same command.
"""

from __future__ import annotations

import errno
import os
import resource
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch

import agents
from agents import atomic, runs
from agents import checkpoint as checkpoint_file
from agents.cli import main
from agents.run_lock import LOCK_FILE, RunLock, RunLockedError
from agents.training import trainer as trainer_module
from agents.training.trainer import CHECKPOINT_VERSION, final_verdict
from neurotasks.criterion import Criterion
from tests.test_trainer import tiny_train

ROOT = Path(__file__).resolve().parents[1]
#: met at the second validation (64 trials), with room to train on (the bug this guards against)
EASY = Criterion("percent_correct", ">=", 0.0, window=2)
#: the CLI's arguments for a small, quick run
CLI_TRAIN = ["train", "PerceptualDecision-v0", "--n-units", "12", "--quiet", "--no-figures"]
WALL = ("wall_s", "wall_s_to_criterion")
#: history columns that do not depend on the wall clock
KEEP = ("updates", "trials", "loss", "percent_correct", "min_condition_percent_correct", "train_loss", "omega", "lr")


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "agents.cli", *argv], capture_output=True, text=True, cwd=ROOT,
                          timeout=300)


def _history(run: runs.RunDir) -> list[list[str]]:
    return [[repr(row[k]) for k in KEEP] for row in run.history()]


def _without_wall(metrics: dict) -> dict:
    out = {k: v for k, v in metrics.items() if k not in WALL}
    if out.get("best"):
        out["best"] = {k: v for k, v in out["best"].items() if k != "wall_s"}
    return out


class _Payload:
    """Unpickling this creates ``marker``: proof that code ran."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def _legacy_checkpoint(path: Path, state: dict) -> None:
    """The version-1 checkpoint.pt an earlier neurotasks wrote for ``state`` (torch.save, pickle)."""
    old = {"version": 1, **{k: v for k, v in state.items() if k not in ("stopped", "figures_updates")}}
    torch.save(old, path)


# ---------------------------------------------------------------------- nothing runs
def test_a_malicious_pickle_checkpoint_runs_nothing_anywhere(tmp_path, capsys):
    run = tiny_train(tmp_path, max_trials=16)
    marker = tmp_path / "code-ran"
    (run.path / runs.CHECKPOINT).unlink()
    torch.save({"version": 1, "model": _Payload(marker)}, run.path / runs.LEGACY_CHECKPOINT)
    armed = tmp_path / "armed.pt"
    armed.write_bytes((run.path / runs.LEGACY_CHECKPOINT).read_bytes())
    torch.load(armed, weights_only=False)                       # the payload is live: the old loader ran it
    assert marker.exists()
    marker.unlink()

    with pytest.raises(ValueError, match=r"checkpoint\.pt is a checkpoint in the old pickle format.*"
                                         r"`neurotasks convert .*run`"):
        tiny_train(tmp_path, max_trials=32)
    assert not marker.exists()
    agents.load(run.path)
    assert main(["evaluate", str(run.path), "--trials", "20"]) == 0
    capsys.readouterr()
    assert main(["convert", str(run.path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "weights_only=True" in err and "not converted" in err and "posix" not in err
    assert "GLOBAL io.open" in err
    assert not marker.exists(), "nothing ran on resume, load, evaluate or convert"
    assert (run.path / runs.LEGACY_CHECKPOINT).exists() and not (run.path / runs.CHECKPOINT).exists()


@pytest.mark.parametrize("which", [runs.CHECKPOINT, runs.WEIGHTS])
def test_a_pickle_under_a_new_name_runs_nothing(tmp_path, capsys, which):
    import pickle

    run = tiny_train(tmp_path, max_trials=16)
    marker = tmp_path / "code-ran"
    (run.path / which).write_bytes(pickle.dumps({"model": _Payload(marker)}))
    if which == runs.CHECKPOINT:
        with pytest.raises(ValueError, match=r"checkpoint\.safetensors is corrupt \(not a safetensors file"):
            tiny_train(tmp_path, max_trials=32)
    else:
        with pytest.raises(ValueError, match=r"model\.safetensors is corrupt"):
            agents.load(run.path)
        assert main(["evaluate", str(run.path), "--trials", "20"]) == 2
        assert "model.safetensors is corrupt" in capsys.readouterr().err
    assert not marker.exists()


def test_a_checkpoint_with_crafted_state_is_corrupt(tmp_path):
    from safetensors.torch import save

    run = tiny_train(tmp_path, max_trials=16)
    path = run.path / runs.CHECKPOINT
    state = checkpoint_file.load(path, CHECKPOINT_VERSION)
    for damage, match in [({"updates": "7"}, "updates is a str"), ({"history": [1, 2]}, "history rows"),
                          ({"generator": torch.zeros(3)}, "generator is not a generator state"),
                          ({"model": {"w_rec": torch.zeros(2)}}, "model weights do not match"),
                          ({"stopped": 1}, "stopped is a int")]:
        checkpoint_file.save(path, {**state, **damage}, CHECKPOINT_VERSION)
        with pytest.raises(ValueError, match=f"checkpoint.safetensors is corrupt .*{match}"):
            tiny_train(tmp_path, max_trials=32)
    nan = {**state, "model": {**state["model"], "w_in": torch.full_like(state["model"]["w_in"], float("nan"))}}
    checkpoint_file.save(path, nan, CHECKPOINT_VERSION)
    with pytest.raises(ValueError, match="model weights hold NaN or infinity in w_in"):
        tiny_train(tmp_path, max_trials=32)
    path.write_bytes(save({"x": torch.ones(1)}, metadata={"format": "neurotasks-checkpoint", "version": "1"}))
    with pytest.raises(ValueError, match="format version '1'"):
        tiny_train(tmp_path, max_trials=32)


def test_convert_turns_an_old_checkpoint_into_the_new_one_and_the_run_resumes_exactly(tmp_path, capsys):
    straight = tiny_train(tmp_path, "straight", max_trials=256)
    stopped = tiny_train(tmp_path, "stopped", max_trials=96)
    state = checkpoint_file.load(stopped.path / runs.CHECKPOINT, CHECKPOINT_VERSION)
    _legacy_checkpoint(stopped.path / runs.LEGACY_CHECKPOINT, state)
    (stopped.path / runs.CHECKPOINT).unlink()
    with pytest.raises(ValueError, match="neurotasks convert"):
        tiny_train(tmp_path, "stopped", max_trials=256)

    assert main(["convert", str(stopped.path)]) == 0
    assert "converted" in capsys.readouterr().out
    assert not (stopped.path / runs.LEGACY_CHECKPOINT).exists()
    assert main(["convert", str(stopped.path)]) == 2
    assert "already in the current format" in capsys.readouterr().err
    resumed = tiny_train(tmp_path, "stopped", max_trials=256)
    assert _history(resumed) == _history(straight)
    assert (resumed.path / runs.WEIGHTS).read_bytes() == (straight.path / runs.WEIGHTS).read_bytes()


def test_convert_of_a_run_killed_while_finishing_finishes_with_the_model_that_met_the_criterion(tmp_path,
                                                                                               uninterrupted):
    run = tmp_path / "run"
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(trainer_module.Trainer, "finish", _interrupt)
        with pytest.raises(KeyboardInterrupt):
            tiny_train(tmp_path, "run", criterion=EASY, max_trials=1024)
    state = checkpoint_file.load(run / runs.CHECKPOINT, CHECKPOINT_VERSION)
    _legacy_checkpoint(run / runs.LEGACY_CHECKPOINT, state)          # as the old trainer left it
    (run / runs.CHECKPOINT).unlink()
    assert main(["convert", str(run)]) == 0
    finished = tiny_train(tmp_path, "run", criterion=EASY, max_trials=1024)
    assert _without_wall(finished.metrics) == _without_wall(uninterrupted.metrics)


# ---------------------------------------------------------------------- one writer at a time
def test_the_lock_is_exclusive_names_its_holder_and_is_released(tmp_path):
    lock = RunLock(tmp_path / "run").acquire()
    assert (tmp_path / "run" / LOCK_FILE).read_text() == f"{os.getpid()}\n"
    with pytest.raises(RunLockedError, match=f"{tmp_path / 'run'} is in use by process {os.getpid()}") as caught:
        RunLock(tmp_path / "run").acquire()             # another open file description: flock refuses it too
    assert caught.value.pid == os.getpid()
    with pytest.raises(RunLockedError):
        tiny_train(tmp_path, "run", max_trials=16)
    lock.release()
    with RunLock(tmp_path / "run"):
        pass
    tiny_train(tmp_path, "run", max_trials=16)


def test_a_symlinked_lock_file_is_refused(tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / LOCK_FILE).symlink_to(tmp_path / "elsewhere")
    with pytest.raises(OSError, match=f"cannot write {tmp_path / 'run' / LOCK_FILE}"):
        RunLock(tmp_path / "run").acquire()
    assert not (tmp_path / "elsewhere").exists()


@pytest.mark.slow
def test_two_trainings_on_one_folder_the_second_refuses_and_a_dead_holders_lock_is_taken_over(tmp_path, capsys):
    out = tmp_path / "run"
    first = subprocess.Popen([sys.executable, "-m", "agents.cli", *CLI_TRAIN, "--out", str(out),
                              "--max-trials", "100000000"], cwd=ROOT, stdout=subprocess.DEVNULL,
                             stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not (out / runs.CHECKPOINT).exists():
            assert first.poll() is None, first.stderr.read()
            assert time.monotonic() < deadline, "the first training never wrote a checkpoint"
            time.sleep(0.1)
        assert (out / LOCK_FILE).read_text().strip() == str(first.pid)
        second = _cli(*CLI_TRAIN, "--out", str(out), "--max-trials", "64")
        assert second.returncode == 1, second.stderr
        assert second.stderr.count("\n") == 1 and "Traceback" not in second.stderr
        assert f"{out} is in use by process {first.pid}" in second.stderr
        assert main(["evaluate", str(out), "--trials", "10"]) == 1        # evaluate writes evaluation/: locked too
        assert f"in use by process {first.pid}" in capsys.readouterr().err
    finally:
        first.send_signal(signal.SIGKILL)
        first.wait()
    assert first.returncode == -signal.SIGKILL
    assert main([*CLI_TRAIN, "--out", str(out), "--max-trials", "1280"]) == 0, "the dead holder's lock is stale"
    assert runs.RunDir(out).metrics["stopped"] == "max_trials"


# ---------------------------------------------------------------------- a full disk
def _full_disk(fd, data):
    os.write(fd, bytes(data[: len(data) // 2]))
    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))


def test_a_full_disk_is_a_clean_error_and_the_run_resumes_from_its_last_checkpoint(tmp_path, monkeypatch, capsys):
    assert main([*CLI_TRAIN, "--out", str(tmp_path / "straight"), "--max-trials", "3840"]) == 0
    out = tmp_path / "run"
    assert main([*CLI_TRAIN, "--out", str(out), "--max-trials", "1280"]) == 0
    saved = {name: (out / name).read_bytes() for name in (runs.CHECKPOINT, runs.HISTORY)}
    capsys.readouterr()
    with monkeypatch.context() as patch:
        patch.setattr(atomic, "_write_all", _full_disk)
        assert main([*CLI_TRAIN, "--out", str(out), "--max-trials", "3840"]) == 1
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert err.startswith(f"neurotasks train: error: cannot write {out}/") and "No space left on device" in err
    assert "last complete checkpoint" in err
    assert {name: (out / name).read_bytes() for name in saved} == saved, "the folder keeps its last checkpoint"
    assert not list(out.rglob("*.tmp")), "the temporary file is removed"
    assert main([*CLI_TRAIN, "--out", str(out), "--max-trials", "3840"]) == 0
    straight = runs.RunDir(tmp_path / "straight")
    assert _history(runs.RunDir(out)) == _history(straight)
    assert (out / runs.WEIGHTS).read_bytes() == (straight.path / runs.WEIGHTS).read_bytes()
    assert _without_wall(runs.RunDir(out).metrics) == _without_wall(straight.metrics)


@pytest.mark.slow
def test_a_real_write_error_in_a_real_process_is_one_line(tmp_path):
    """The file-size limit makes the kernel refuse the next, larger checkpoint (EFBIG)."""
    out = tmp_path / "run"
    assert main([*CLI_TRAIN, "--out", str(out), "--max-trials", "1280"]) == 0
    before = (out / runs.CHECKPOINT).read_bytes()

    def limit():                                            # in the child, before exec
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)       # so the write fails instead of killing the process
        resource.setrlimit(resource.RLIMIT_FSIZE, (len(before), len(before)))

    done = subprocess.run([sys.executable, "-m", "agents.cli", *CLI_TRAIN, "--out", str(out), "--max-trials",
                           "2560"], cwd=ROOT, capture_output=True, text=True, preexec_fn=limit, timeout=300)
    assert done.returncode == 1, done.stderr
    assert done.stderr.count("\n") == 1 and "Traceback" not in done.stderr
    assert f"cannot write {out / runs.CHECKPOINT}: File too large" in done.stderr
    assert (out / runs.CHECKPOINT).read_bytes() == before
    assert not list(out.rglob("*.tmp"))


def test_leftovers_of_a_killed_run_are_removed_when_it_resumes(tmp_path):
    run = tiny_train(tmp_path, max_trials=16)
    leftovers = [run.path / f".{runs.CHECKPOINT}.a8f2k1.tmp", run.path / f".{runs.HISTORY}.x0.tmp"]
    for path in leftovers:
        path.write_bytes(b"half a file")
    tiny_train(tmp_path, max_trials=32)
    assert not any(path.exists() for path in leftovers)


# ---------------------------------------------------------------------- kills in every window
@pytest.fixture(scope="module")
def uninterrupted(tmp_path_factory):
    return tiny_train(tmp_path_factory.mktemp("reference"), criterion=EASY, max_trials=1024)


def _interrupt(*args, **kwargs):
    raise KeyboardInterrupt


def _interrupt_final_scoring(original):
    def score(self, model, batch, generator):
        if model is not self.model:                # the final model, a fresh copy: finish() is scoring it
            raise KeyboardInterrupt
        return original(self, model, batch, generator)
    return score


def _interrupt_metrics(original):
    def write(path, data):
        if Path(path).name == runs.METRICS:
            raise KeyboardInterrupt
        return original(path, data)
    return write


@pytest.mark.parametrize("window", ["entering finish", "after the final weights", "writing metrics"])
def test_a_run_interrupted_while_finishing_finishes_with_the_model_that_met_the_criterion(tmp_path, uninterrupted,
                                                                                         window, capsys):
    assert uninterrupted.metrics["criterion_met"] and uninterrupted.metrics["updates"] == 4
    with pytest.MonkeyPatch.context() as patch:
        if window == "entering finish":
            patch.setattr(trainer_module.Trainer, "finish", _interrupt)
        elif window == "after the final weights":
            patch.setattr(trainer_module.Trainer, "score", _interrupt_final_scoring(trainer_module.Trainer.score))
        else:
            patch.setattr(runs, "write_json_atomic", _interrupt_metrics(runs.write_json_atomic))
        with pytest.raises(KeyboardInterrupt):
            tiny_train(tmp_path, criterion=EASY, max_trials=1024)
    rerun = tiny_train(tmp_path, criterion=EASY, max_trials=1024, quiet=False)
    assert "met its criterion at update 4; finishing it" in capsys.readouterr().out
    assert _without_wall(rerun.metrics) == _without_wall(uninterrupted.metrics), "no training after the criterion"
    assert (rerun.path / runs.WEIGHTS).read_bytes() == (uninterrupted.path / runs.WEIGHTS).read_bytes()
    assert _history(rerun) == _history(uninterrupted)
    tiny_train(tmp_path, criterion=EASY, max_trials=1024, quiet=False)
    assert "already reached its criterion; nothing to do" in capsys.readouterr().out


def test_a_capped_run_interrupted_while_finishing_finishes_the_same_on_rerun(tmp_path):
    straight = tiny_train(tmp_path, "straight", max_trials=96)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(runs, "write_json_atomic", _interrupt_metrics(runs.write_json_atomic))
        with pytest.raises(KeyboardInterrupt):
            tiny_train(tmp_path, max_trials=96)
    rerun = tiny_train(tmp_path, max_trials=96)
    assert _without_wall(rerun.metrics) == _without_wall(straight.metrics)
    assert (rerun.path / runs.WEIGHTS).read_bytes() == (straight.path / runs.WEIGHTS).read_bytes()
    assert _history(rerun) == _history(straight)


@pytest.mark.slow
def test_a_run_killed_inside_finish_resumes_without_training(tmp_path, uninterrupted):
    script = f"""
import os, signal, sys
sys.path.insert(0, {str(ROOT)!r})
from agents.training import trainer
from neurotasks.criterion import Criterion
from tests.test_trainer import tiny_train
from pathlib import Path
original = trainer.Trainer.score
def score(self, model, batch, generator):
    if model is not self.model:
        os.kill(os.getpid(), signal.SIGKILL)
    return original(self, model, batch, generator)
trainer.Trainer.score = score
tiny_train(Path({str(tmp_path)!r}), criterion=Criterion("percent_correct", ">=", 0.0, window=2), max_trials=1024)
"""
    killed = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    assert not (tmp_path / "run" / runs.METRICS).exists()
    rerun = tiny_train(tmp_path, criterion=EASY, max_trials=1024)
    assert _without_wall(rerun.metrics) == _without_wall(uninterrupted.metrics)
    assert (rerun.path / runs.WEIGHTS).read_bytes() == (uninterrupted.path / runs.WEIGHTS).read_bytes()


@pytest.mark.slow
def test_a_run_interrupted_while_drawing_figures_draws_them_on_rerun_without_training(tmp_path, uninterrupted,
                                                                                     monkeypatch):
    import agents.plots.run_figures as run_figures

    with monkeypatch.context() as patch:
        patch.setattr(run_figures, "write_run_figures", _interrupt)
        with pytest.raises(KeyboardInterrupt):
            tiny_train(tmp_path, criterion=EASY, max_trials=1024, figures=True)
    assert not (tmp_path / "run" / "figures" / "training_curve.png").exists()
    rerun = tiny_train(tmp_path, criterion=EASY, max_trials=1024, figures=True)
    assert (rerun.path / "figures" / "training_curve.png").is_file()
    assert _without_wall(rerun.metrics) == _without_wall(uninterrupted.metrics)
    state = checkpoint_file.load(rerun.path / runs.CHECKPOINT, CHECKPOINT_VERSION)
    assert state["figures_updates"] == state["updates"] == 4
    monkeypatch.setattr(run_figures, "write_run_figures", _interrupt)
    tiny_train(tmp_path, criterion=EASY, max_trials=1024, figures=True)       # nothing left to do: not redrawn


def test_an_interrupted_checkpoint_write_resumes_exactly(tmp_path, monkeypatch):
    straight = tiny_train(tmp_path, "straight", max_trials=256)
    calls = {"n": 0}
    original = checkpoint_file.save

    def save_then_die(path, state, version):
        calls["n"] += 1
        if calls["n"] == 3:                         # the third checkpoint: killed while writing it
            monkeypatch.setattr(atomic, "_write_all", _full_disk)
        return original(path, state, version)

    monkeypatch.setattr(checkpoint_file, "save", save_then_die)
    with pytest.raises(OSError, match="No space left"):
        tiny_train(tmp_path, "stopped", max_trials=256)
    monkeypatch.undo()
    assert checkpoint_file.load(tmp_path / "stopped" / runs.CHECKPOINT, CHECKPOINT_VERSION)["trials"] == 64
    resumed = tiny_train(tmp_path, "stopped", max_trials=256)
    assert _history(resumed) == _history(straight)
    assert (resumed.path / runs.WEIGHTS).read_bytes() == (straight.path / runs.WEIGHTS).read_bytes()


# ---------------------------------------------------------------------- honest metrics
def test_final_verdict_says_when_the_final_validation_disagrees():
    paper = Criterion("percent_correct", ">", 85.0, window=5)
    agree = final_verdict(paper, {"percent_correct": 91.0}, True)
    assert agree == {"criterion_met_in_training": True, "final_validation_meets_criterion": True,
                     "final_validation_note": None}
    below = final_verdict(paper, {"percent_correct": 84.9}, True)
    assert below["final_validation_meets_criterion"] is False
    assert below["final_validation_note"] == ("the criterion (mean of last 5 percent_correct > 85) was met in "
                                              "training, but the final validation on fresh trials does not meet "
                                              "its threshold: percent_correct 84.9 (threshold > 85)")
    above = final_verdict(paper, {"percent_correct": 90.0}, False)
    assert above["final_validation_meets_criterion"] and "was not met in training" in above["final_validation_note"]
    assert final_verdict(paper, {"percent_correct": 50.0}, False)["final_validation_note"] is None
    missing = final_verdict(paper, {"loss": 0.1}, True)
    assert missing["final_validation_meets_criterion"] is None and missing["final_validation_note"] is None
    rmse = Criterion("rmse", "<=", 0.1)
    assert final_verdict(rmse, {"rmse": 0.103}, True)["final_validation_meets_criterion"] is False


def _final_scores_shifted(original, percent):
    def score(self, model, batch, generator):
        scores = original(self, model, batch, generator)
        if model is not self.model:
            scores["percent_correct"] = percent
        return scores
    return score


def test_metrics_report_a_final_validation_below_the_criterion_met_in_training(tmp_path, monkeypatch):
    monkeypatch.setattr(trainer_module.Trainer, "score", _final_scores_shifted(trainer_module.Trainer.score, -1.0))
    metrics = tiny_train(tmp_path, criterion=EASY, max_trials=1024).metrics
    assert metrics["criterion_met"] is metrics["criterion_met_in_training"] is True
    assert metrics["final"]["percent_correct"] == -1.0 and metrics["final_validation_meets_criterion"] is False
    assert "does not meet its threshold: percent_correct -1" in metrics["final_validation_note"]


def test_the_cli_warns_when_the_final_validation_disagrees(tmp_path, monkeypatch, capsys):
    assert main([*CLI_TRAIN, "--out", str(tmp_path / "agree"), "--max-trials", "64"]) == 0
    assert "warning" not in capsys.readouterr().out
    monkeypatch.setattr(trainer_module.Trainer, "score", _final_scores_shifted(trainer_module.Trainer.score, 99.0))
    assert main([*CLI_TRAIN, "--out", str(tmp_path / "run"), "--max-trials", "64"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "not met; stopped at max_trials" in lines[1]
    assert lines[-1].startswith("warning: the criterion (mean of last 5 percent_correct > 85) was not met in "
                                "training, although the final validation on fresh trials meets its threshold")
