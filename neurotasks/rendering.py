"""Pictures of a trial drawn with NumPy alone (no matplotlib), for ``render()``."""

from __future__ import annotations

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.task import Task

WIDTH = 320          # pixels; a trial of any length is resampled to this width
ROW = 12             # pixels per channel
GAP = 4              # pixels between the input block and the target block
_COLD = np.array([33, 102, 172], dtype=np.float64)   # low values
_MID = np.array([247, 247, 247], dtype=np.float64)
_HOT = np.array([178, 24, 43], dtype=np.float64)     # high values
_PERIOD_SHADES = np.array([[230, 230, 230], [200, 200, 200]], dtype=np.uint8)


def _colour(values: np.ndarray, low: float, high: float) -> np.ndarray:
    """Map values to a diverging blue-white-red ramp, uint8 RGB."""
    x = np.clip((values - low) / max(high - low, 1e-12), 0.0, 1.0)[..., None]
    rgb = np.where(x < 0.5, _COLD + (_MID - _COLD) * (2 * x), _MID + (_HOT - _MID) * (2 * x - 1))
    return rgb.astype(np.uint8)


def render_rgb(task: Task, batch: TrialBatch, k: int, t: int) -> np.ndarray:
    """(H, WIDTH, 3) uint8: a strip of periods, the inputs, the targets, and a cursor at step ``t``.

    The size depends only on the task's channel counts, so frames of one environment can be
    stacked into a video.
    """
    length = int(batch.lengths[k])
    cols = np.minimum((np.arange(WIDTH) * length) // WIDTH, length - 1)   # step shown in each column
    lo, hi = task.observation_range
    inputs = _colour(batch.inputs[k, cols].T, lo, hi)                      # (n_in, WIDTH, 3)
    t_lo, t_hi = task.output_range
    targets = _colour(batch.targets[k, cols].T, t_lo, t_hi)
    targets[(batch.mask[k, cols].T == 0)] = 128                             # unconstrained: grey
    period = batch.period_of_steps()[k, cols] % 2
    strip = np.repeat(_PERIOD_SHADES[period][None], ROW // 2, axis=0)
    blocks = [strip, np.full((GAP, WIDTH, 3), 255, np.uint8),
              np.repeat(inputs, ROW, axis=0), np.full((GAP, WIDTH, 3), 255, np.uint8),
              np.repeat(targets, ROW, axis=0)]
    image = np.concatenate(blocks, axis=0)
    cursor = min(int(t * WIDTH / length), WIDTH - 1)
    image[:, cursor] = 0
    return image


def render_ansi(task: Task, batch: TrialBatch, k: int, t: int) -> str:
    """One line describing step ``t`` of trial ``k``."""
    names = list(batch.periods)
    period = names[batch.period_of_steps()[k, t]]
    obs = " ".join(f"{n}={v:.2f}" for n, v in zip(task.input_names, batch.inputs[k, t], strict=False))
    tgt = " ".join(f"{n}={v:.2f}" for n, v in zip(task.output_names, batch.targets[k, t], strict=False))
    return (f"{task.id} t={t * batch.dt:g}ms/{batch.lengths[k] * batch.dt:g}ms [{period}] "
            f"obs: {obs} | target: {tgt} | gt={batch.gt[k, t]}\n")
