"""TrialSampler: an endless supply of fresh batches of whole trials, for supervised training.

What NeuroGym's ``Dataset`` is for (batches for a PyTorch/JAX training loop), without its
costs: every trial drawn reaches a batch whole (``Dataset`` cuts the stream into ``seq_len``
windows and drops what does not fit), and trials are built ``block`` at a time, so the fixed
cost of a ``task.trials`` call is shared by many batches. Each batch is a ``TrialBatch``
padded only to its own longest trial, whose arrays are views into the block (as ``Dataset``
serves slices of its cache): read them, or copy before writing. A block is built in the memory of
an earlier one when no batch of that one is still held (no process-wide allocator setting needed
to avoid faulting fresh pages in for every block); batches a caller keeps stay as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.registry import make_task
from neurotasks.task import Task, as_generator
from neurotasks.work_arrays import WorkArrays

#: A block holds about this many real steps (but at least one batch).
BLOCK_STEPS = 1 << 15


class TrialSampler:
    """Batches of ``batch_size`` fresh trials of ``task``, drawn from ``rng``.

    Args:
        task: a Task, or a task id (then ``task_kwargs`` make it).
        batch_size: trials per batch.
        rng: an int seed, a ``numpy.random.Generator`` (advanced in place) or None.
        block: trials per ``task.trials`` call, a multiple of ``batch_size``; by default about
            ``BLOCK_STEPS`` steps' worth. A seeded sampler gives the same batches for the same
            ``block``.

    ``sampler()`` or ``next(sampler)`` returns the next batch.
    """

    def __init__(self, task: Task | str, batch_size: int, rng: np.random.Generator | int | None = None, *,
                 block: int | None = None, **task_kwargs: Any) -> None:
        if isinstance(task, str):
            task = make_task(task, **task_kwargs)
        elif task_kwargs:
            raise TypeError(f"task arguments {sorted(task_kwargs)} are only accepted with a task id")
        if not isinstance(task, Task):
            raise TypeError(f"task must be a Task or a task id, got {type(task).__name__}")
        if isinstance(batch_size, bool) or not isinstance(batch_size, (int, np.integer)) or batch_size < 1:
            raise ValueError(f"batch_size must be a positive int, got {batch_size!r}")
        batch_size = int(batch_size)
        if block is None:
            mean_steps = float(task.trials(32, 0).lengths.mean())
            block = batch_size * max(1, round(BLOCK_STEPS / (mean_steps * batch_size)))
        if isinstance(block, bool) or not isinstance(block, (int, np.integer)) or block < 1 \
                or block % batch_size:
            raise ValueError(f"block must be a positive multiple of batch_size={batch_size}, got {block!r}")
        self.task = task
        self.batch_size = batch_size
        self.block = int(block)
        self.rng = as_generator(rng)
        self._trials: TrialBatch | None = None
        self._next = 0
        self._works = [WorkArrays(), WorkArrays()]

    def __call__(self) -> TrialBatch:
        if self._trials is None or self._next == self.block:
            self._trials, self._next = None, 0     # drop the finished block's own views, then reuse
            self._trials = self.task.trials(self.block, self.rng, work=self._free_work())
        start, self._next = self._next, self._next + self.batch_size
        return self._trials.select(slice(start, self._next), copy=False)     # views, trimmed

    def _free_work(self) -> WorkArrays:
        """Memory for the next block: one of two kept sets that no held batch still uses (a training
        loop holds the last batch of the block before while the next is built, hence two), else a
        fresh set, the held one being left to its holder."""
        for work in self._works:
            if not work.in_use():
                self._works.remove(work)
                break
        else:
            work = WorkArrays()
            self._works.pop(0)
        self._works.append(work)            # the most recently used last
        return work

    def __iter__(self) -> Iterator[TrialBatch]:
        return self

    def __next__(self) -> TrialBatch:
        return self()

    def __repr__(self) -> str:
        return f"TrialSampler({self.task!r}, batch_size={self.batch_size}, block={self.block})"
