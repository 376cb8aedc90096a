"""Conventions shared by the paper's decision tasks (Song, Yang & Wang 2016, pycog).

Inputs are a rectified sum of a 0.2 baseline, the task signal and white noise (sigma 0.01 at
tau_in = 100 ms). Outputs are one per choice: 0.2 ("low") on both during fixation, then 1.0
("high") on the correct one and 0.2 on the others in the decision period; the error mask is 1
on fixation and decision only. Catch trials (no stimulus) want 0.2 everywhere, mask 1.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.rules import ChoiceRule
from neurotasks.task import Task, Trials

LOW = 0.2
HIGH = 1.0
BASELINE = 0.2
SIGMA_IN = 0.01
TAU_IN = 100.0


class DecisionTask(Task):
    """A paper-style task whose answer is one of ``len(output_names)`` choices."""

    criterion = Criterion("percent_correct", ">", 85.0, window=5)
    output_range = (0.0, 1.5)

    def __init__(self, *, dt: float = 20.0, catch_prob: float = 0.0, catch_duration: float = 2000.0,
                 input_noise: float = SIGMA_IN, tau_in: float = TAU_IN, input_baseline: float = BASELINE,
                 **kwargs: Any) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration,
                         input_baseline=input_baseline, input_noise=input_noise, tau_in=tau_in,
                         rectify_inputs=True, **kwargs)
        self.action_names = ("fixate", *self.output_names)
        self.rule = ChoiceRule(response_period="decision", rt_period="stimulus")

    def write_choice_targets(self, tr: Trials, *, fixation: tuple[str, ...] = ("fixation",),
                             decision: str = "decision", high: float = HIGH,
                             decision_mask: np.ndarray | None = None) -> None:
        """Low on every output during ``fixation``; high on the correct output and low on the
        others in the decision window (the ``decision`` period, or ``decision_mask`` (B, T) when
        the window is not a period); mask 1 on both; ``gt`` = ground_truth + 1 in the window."""
        n_out = len(self.output_names)
        gt = tr.params["ground_truth"]
        level = np.where(gt[:, None] == np.arange(n_out), np.float32(high), np.float32(LOW))   # (B, n_out)
        low = {name: LOW for name in fixation}
        ones = {name: 1.0 for name in fixation}
        if decision_mask is None:
            tr.targets[:] = tr.per_period({**low, decision: level}, n_out)
            tr.mask[:] = tr.per_period({**ones, decision: 1.0}, n_out)
            tr.gt[:] = tr.per_period({decision: gt[:, None] + 1}, 1, np.int64)[:, :, 0]
        else:
            window = decision_mask[:, :, None]
            tr.targets[:] = np.where(window, level[:, None, :], tr.per_period(low, n_out))
            tr.mask[:] = np.where(window, np.float32(1.0), tr.per_period(ones, n_out))
            tr.gt[:] = decision_mask * (gt[:, None] + 1)
