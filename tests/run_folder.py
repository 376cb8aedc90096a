"""A run folder with an untrained EIRNN, written by hand in the format of ``agents.runs`` (for analysis tests)."""

from __future__ import annotations

from pathlib import Path
from types import ModuleType

import neurotasks


def make_untrained_run(runs: ModuleType, path: Path, task_id: str = "PerceptualDecision-v0", n_units: int = 20,
                       seed: int = 0, **task_kwargs) -> Path:
    """config.json, model.safetensors, history.csv and metrics.json of a small untrained network."""
    from safetensors.torch import save_file

    import agents

    task = neurotasks.make_task(task_id, **task_kwargs)
    model = agents.EIRNN(len(task.input_names), len(task.output_names), n_units=n_units, seed=seed)
    path.mkdir(parents=True, exist_ok=True)
    runs.write_json_atomic(path / runs.CONFIG, {"task": {"id": task_id, "kwargs": task_kwargs}, "model": model.config,
                                                "trainer": {}, "seed": seed, "versions": {}})
    save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(path / runs.WEIGHTS))
    runs.write_history_atomic(path / runs.HISTORY, [
        {"updates": 10 * i, "trials": 200 * i, "wall_s": 0.5 * i, "loss": 0.3 / i, "percent_correct": 50.0 + 3 * i}
        for i in range(1, 8)])
    runs.write_json_atomic(path / runs.METRICS, {"percent_correct": 71.0})
    return path
