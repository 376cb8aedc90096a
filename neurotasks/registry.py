"""Finding tasks by id, and registering them with Gymnasium."""

from __future__ import annotations

import inspect
from typing import Any

import gymnasium as gym

from neurotasks.task import TASK_CLASSES, Task


def list_tasks(tag: str | None = None, source: str | None = None) -> list[str]:
    """Every task id, sorted; only those carrying ``tag``, and those whose reference (the papers and
    code the task follows, e.g. "Yang et al. 2019", "NeuroGym", "Song, Yang & Wang 2016") contains
    ``source`` (case-insensitive), if given."""
    for name, value in (("tag", tag), ("source", source)):
        if value is not None and not isinstance(value, str):
            raise TypeError(f"{name} must be a string or None, got {type(value).__name__}")
    _load()
    wanted = source.casefold() if source is not None else None
    return sorted(k for k, cls in TASK_CLASSES.items()
                  if (tag is None or tag in cls.tags) and (wanted is None or wanted in cls.reference.casefold()))


def task_class(task_id: str) -> type[Task]:
    """The Task subclass registered under ``task_id`` (``"neurotasks:"`` prefix allowed)."""
    _load()
    key = task_id.split(":", 1)[-1]
    try:
        return TASK_CLASSES[key]
    except KeyError:
        raise ValueError(f"unknown task id {task_id!r}; known ids: {', '.join(sorted(TASK_CLASSES))}") from None


def task_arguments(task_id: str) -> dict[str, Any]:
    """The keyword arguments a task accepts, with their defaults."""
    sig = inspect.signature(task_class(task_id).__init__)
    return {k: p.default for k, p in sig.parameters.items() if p.kind is p.KEYWORD_ONLY}


def make_task(task_id: str, **kwargs: Any) -> Task:
    """Make a task by id. Unknown arguments raise a TypeError naming them and listing the valid ones."""
    cls = task_class(task_id)
    valid = task_arguments(task_id)
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise TypeError(f"{cls.id} got unknown argument(s) {unknown}; valid arguments: {sorted(valid)}")
    task = cls(**kwargs)
    task.kwargs = dict(kwargs)
    return task


def register_all() -> None:
    """Register every task with Gymnasium (idempotent). Called by ``import neurotasks``."""
    for task_id in list_tasks():
        if task_id in gym.registry:
            continue
        gym.register(
            id=task_id,
            entry_point="neurotasks.env:TaskEnv",
            vector_entry_point="neurotasks.vector_env:TaskVectorEnv",
            kwargs={"task": task_id},
            # Every env passes Gymnasium's check_env in the test suite, so the passive checker's
            # wrapper layer would only cost time on every step (NeuroGym disables it too).
            disable_env_checker=True,
        )


def _load() -> None:
    import neurotasks.tasks  # noqa: F401  (importing registers every task class)
