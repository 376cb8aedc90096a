"""A light install: `pip install neurotasks` gives the environments with NumPy and Gymnasium alone,
and the commands that need the `agents` extra say so instead of printing a traceback."""

from __future__ import annotations

import subprocess
import sys
import venv
from importlib import metadata
from pathlib import Path

import pytest
from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]
HEAVY = ("torch", "matplotlib", "scipy", "stable_baselines3", "sb3_contrib", "safetensors", "tqdm")


def test_the_package_itself_requires_only_numpy_and_gymnasium():
    required = [Requirement(r) for r in metadata.requires("neurotasks") or []]
    base = sorted(r.name for r in required if r.marker is None)
    assert base == ["gymnasium", "numpy"]
    extras = {r.name for r in required if r.marker is not None and r.marker.evaluate({"extra": "agents"})}
    assert {"torch", "matplotlib", "scipy", "stable-baselines3", "sb3-contrib", "safetensors"} <= extras
    assert not any(r.specifier and any(s.operator == "==" for s in r.specifier) for r in required), \
        "no exact pins in the package metadata"


# Runs in a child interpreter where the agents extra's modules cannot be imported, as on a light install.
_BLOCKED = f"""
import importlib.abc, sys
HEAVY = {HEAVY!r}
class Block(importlib.abc.MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name.partition(".")[0] in HEAVY:
            raise ModuleNotFoundError(f"No module named {{name!r}}", name=name)
sys.meta_path.insert(0, Block())
"""


def _run_blocked(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", _BLOCKED + code], capture_output=True, text=True, timeout=120)


def test_without_the_extra_environments_work_and_commands_name_the_extra():
    done = _run_blocked("""
import gymnasium as gym, neurotasks
env = gym.make("PerceptualDecision-v0"); env.reset(seed=0); env.step(0)
neurotasks.make_task("ContextDecision-v0").trials(8, rng=0)
from agents.cli import main
assert main(["list"]) == 0
code = main(["train", "PerceptualDecision-v0", "--out", "unused"])
print("train exit", code)
import agents
try:
    agents.EIRNN
except ModuleNotFoundError as err:
    print("agents.EIRNN:", err)
""")
    assert done.returncode == 0, done.stderr
    assert "train exit 2" in done.stdout
    assert "pip install 'neurotasks[agents]'" in done.stderr            # the train command's message
    assert "agents.EIRNN: agents.EIRNN: this needs the 'agents' extra" in done.stdout
    assert "Traceback" not in done.stderr


@pytest.mark.slow
def test_a_real_light_install_has_no_torch(tmp_path):
    """pip install of the package (no extras) into a fresh venv: NumPy, Gymnasium and their own needs only."""
    env_dir = tmp_path / "light"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    pip = subprocess.run([python, "-m", "pip", "install", "-q", "--disable-pip-version-check", str(ROOT)],
                         capture_output=True, text=True, timeout=600)
    assert pip.returncode == 0, pip.stderr[-2000:]
    listed = subprocess.run([python, "-m", "pip", "list", "--format=freeze"], capture_output=True, text=True,
                            check=True).stdout.lower()
    installed = {line.split("==")[0].replace("_", "-") for line in listed.split()}
    assert {"numpy", "gymnasium", "neurotasks"} <= installed
    assert not installed & {"torch", "matplotlib", "scipy", "stable-baselines3", "sb3-contrib"}, installed
    cli = env_dir / "bin" / "neurotasks"
    listing = subprocess.run([cli, "list"], capture_output=True, text=True, timeout=120)
    assert listing.returncode == 0 and "PerceptualDecision-v0" in listing.stdout
    train = subprocess.run([cli, "train", "PerceptualDecision-v0", "--out", str(tmp_path / "run")],
                           capture_output=True, text=True, timeout=120)
    assert train.returncode == 2
    assert "pip install 'neurotasks[agents]'" in train.stderr and "Traceback" not in train.stderr
    assert not (tmp_path / "run").exists()
