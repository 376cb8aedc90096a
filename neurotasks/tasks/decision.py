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
        others where ``decision_mask`` (default: the ``decision`` period); mask 1 on both;
        ``gt`` = ground_truth + 1 in the decision window, 0 elsewhere."""
        fix = tr.during(*fixation)
        dec = tr.during(decision) if decision_mask is None else decision_mask
        n_out = tr.targets.shape[-1]
        chosen = tr.params["ground_truth"][:, None] == np.arange(n_out)[None, :]   # (B, n_out)
        level = np.where(chosen, high, LOW).astype(np.float32)                     # (B, n_out)
        tr.targets[fix] = LOW
        tr.targets += dec[:, :, None] * level[:, None, :]
        tr.mask += (fix | dec)[:, :, None]
        tr.gt += dec * (tr.params["ground_truth"][:, None] + 1)
