"""plot_trial draws every registered task; `neurotasks plot-task` writes the PNG or fails clearly."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path

import numpy as np
import pytest

import neurotasks
from agents.cli import main
from agents.commands.assignments import parse_assignments
from agents.plots.save import save_figure
from agents.plots.task_trial import plot_trial

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def is_png(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 1000 and path.read_bytes()[:8] == PNG_MAGIC


@pytest.mark.parametrize("task_id", neurotasks.list_tasks())
def test_plot_trial_writes_a_png_for_every_task(task_id, tmp_path):
    task = neurotasks.make_task(task_id)
    batch = task.trials(2, rng=0)
    path = tmp_path / "nested" / f"{task_id}.png"
    fig = plot_trial(task, batch, index=1, path=path)
    assert is_png(path)
    assert fig.axes and task_id in fig.get_suptitle()
    assert [p.name for p in path.parent.iterdir()] == [path.name]          # no temporary file left behind
    catch = plot_trial(task, task.trials(1, rng=0, catch=True))             # a catch trial draws too
    assert "catch=True" in catch.get_suptitle()


def test_plot_trial_overlays_outputs_and_names_channels(tmp_path):
    task = neurotasks.make_task("ReadySetGo-v0")
    batch = task.trials(3, rng=1)
    outputs = batch.targets + 0.01
    fig = plot_trial(task, batch, index=2, outputs=outputs)
    inputs_ax, targets_ax, gt_ax = fig.axes[:3]
    assert [t.get_text() for t in inputs_ax.get_legend().get_texts()] == ["ready", "set", "gain"]
    assert "ramp output" in [t.get_text() for t in targets_ax.get_legend().get_texts()]
    assert [t.get_text() for t in gt_ax.get_yticklabels()] == ["wait", "go"]
    period_labels = {t.get_text() for t in inputs_ax.texts}
    assert period_labels == {"fixation", "ready_set", "production"}
    assert inputs_ax.get_xlim() == (0.0, batch.lengths[2] * batch.dt)
    plot_trial(task, batch, index=0, outputs=outputs[0], path=tmp_path / "one.png")   # (T, n_out) also accepted
    assert is_png(tmp_path / "one.png")


def test_plot_trial_rejects_bad_index_and_outputs():
    task = neurotasks.make_task("PerceptualDecision-v0")
    batch = task.trials(2, rng=0)
    with pytest.raises(IndexError, match="index"):
        plot_trial(task, batch, index=2)
    with pytest.raises(ValueError, match="outputs"):
        plot_trial(task, batch, outputs=np.zeros((2, batch.n_steps, 5)))


def test_save_png_replaces_atomically(tmp_path):
    task = neurotasks.make_task("CueSetGo-v0")
    fig = plot_trial(task, task.trials(1, rng=0))
    target = tmp_path / "fig.png"
    target.write_bytes(b"old")
    save_figure(fig, target)
    assert is_png(target) and os.listdir(tmp_path) == ["fig.png"]


# ---------------------------------------------------------------------- CLI
def test_cli_writes_the_png_and_prints_its_path(tmp_path, capsys):
    out = tmp_path / "figs" / "rsg.png"
    code = main(["plot-task", "ReadySetGo-v0", "--out", str(out), "--seed", "3", "--index", "2",
                 "--set", "gains=[1.5]", "--set", "dt=10", "--param", "interval=560", "--no-catch"])
    assert code == 0
    assert capsys.readouterr().out.strip() == str(out)
    assert is_png(out)


def test_cli_default_path_is_figures_id(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["plot-task", "PerceptualDecision-v0", "--catch", "--set", "stimulus=fixed"]) == 0
    assert capsys.readouterr().out.strip() == str(Path("figures") / "PerceptualDecision-v0.png")
    assert is_png(tmp_path / "figures" / "PerceptualDecision-v0.png")


@pytest.mark.parametrize(("argv", "message"), [
    (["plot-task", "NoSuchTask-v0"], "unknown task id 'NoSuchTask-v0'"),
    (["plot-task", "ReadySetGo-v0", "--set", "gains=[0]"], "gains"),
    (["plot-task", "ReadySetGo-v0", "--set", "speed=2"], "unknown argument(s) ['speed']"),
    (["plot-task", "ReadySetGo-v0", "--set", "dt"], "--set task arguments as key=value"),
    (["plot-task", "ReadySetGo-v0", "--param", "colour=1"], "unknown parameter(s) ['colour']"),
    (["plot-task", "ReadySetGo-v0", "--param", "interval=-5"], "interval"),
    (["plot-task", "ReadySetGo-v0", "--index", "-1"], "--index"),
])
def test_cli_errors_are_one_clear_line_with_exit_code_2(argv, message, tmp_path, capsys):
    assert main([*argv, "--out", str(tmp_path / "x.png")]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and message in captured.err
    assert captured.err.startswith("neurotasks plot-task: error:")
    assert not (tmp_path / "x.png").exists()


def test_parse_assignments_reads_literals_and_keeps_words():
    parsed = parse_assignments(["dt=10", "coherences=[51.2, 12.8]", "stimulus=fixed", "fixation=('uniform', 1, 2)"],
                               "--set")
    assert parsed == {"dt": 10, "coherences": [51.2, 12.8], "stimulus": "fixed", "fixation": ("uniform", 1, 2)}
    with pytest.raises(ValueError, match="--set as key=value"):
        parse_assignments(["=3"], "--set")


# ---------------------------------------------------------------------- gallery script
def test_gallery_script_draws_every_registered_task(tmp_path):
    spec = importlib.util.spec_from_file_location(
        "task_gallery", Path(__file__).resolve().parents[1] / "examples" / "task_gallery.py")
    gallery = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(gallery)
    paths, failures = gallery.draw_gallery(tmp_path, seed=1)
    assert failures == {}
    assert sorted(p.name for p in paths) == sorted(f"{i}.png" for i in neurotasks.list_tasks())
    assert all(is_png(p) for p in paths)
