"""README promises: the task table is generated, and CI runs the README's test command."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

import neurotasks
from agents.commands.list_tasks import markdown_table

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def command_after(marker: str) -> str:
    """The one-line shell command in the code block that follows ``<!-- marker -->``."""
    match = re.search(rf"<!-- {marker} -->\s*```(?:bash|sh)?\n(.+?)\n```", README, re.S)
    assert match, f"README has no code block after <!-- {marker} -->"
    lines = [line for line in match.group(1).splitlines() if line.strip()]
    assert len(lines) == 1, f"the {marker} command must be one line"
    return lines[0].strip()


def test_task_table_is_generated_from_metadata():
    start, end = "<!-- tasks:start -->", "<!-- tasks:end -->"
    table = README.split(start)[1].split(end)[0].strip()
    assert table == markdown_table(neurotasks.list_tasks()), "regenerate: neurotasks list --format markdown"


def test_every_task_has_its_gallery_picture():
    for task_id in neurotasks.list_tasks():
        assert (ROOT / "examples" / "gallery" / f"{task_id}.png").is_file(), task_id


def test_ci_runs_the_readme_test_command():
    test_command = command_after("test-command")
    ci = [line.strip() for line in (ROOT / ".ci" / "run").read_text().splitlines()]
    assert test_command in ci
    assert "pytest" in test_command


def test_main_job_command_is_the_training_run():
    assert "neurotasks train PerceptualDecision-v0" in command_after("main-job")


def test_quickstart_runs():
    """The README's first Python block is executable documentation."""
    block = re.search(r"```python\n(.*?)```", README, re.S)
    assert block
    exec(compile(block.group(1), "README.md", "exec"), {})


@pytest.mark.slow
def test_main_job_reproduces_the_readme_training_figures(tmp_path):
    """The README's trials and updates to criterion for the main job are what the code gives today."""
    row = re.search(r"criterion met after ([\d,]+) trials, ([\d,]+) updates", README)
    assert row, "README's main-job row must state 'criterion met after N trials, M updates'"
    trials, updates = (int(x.replace(",", "")) for x in row.groups())
    done = subprocess.run([sys.executable, "-m", "agents.cli", "train", "PerceptualDecision-v0", "--out",
                           str(tmp_path / "run"), "--no-figures", "--quiet"],
                          capture_output=True, text=True, timeout=600, cwd=ROOT)
    assert done.returncode == 0, done.stderr
    metrics = json.loads((tmp_path / "run" / "metrics.json").read_text())
    assert (metrics["trials_to_criterion"], metrics["updates_to_criterion"]) == (trials, updates), \
        "update the README's main-job figures (and say why they changed)"
