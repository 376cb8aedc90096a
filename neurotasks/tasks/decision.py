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
from neurotasks.domains import Domain, Values
from neurotasks.rules import ChoiceRule
from neurotasks.task import Task, Trials
from neurotasks.timing import Duration

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

    def fixation_stimulus_decision(self, fixation: Any, stimulus_duration: Any, decision: Any) -> dict[str, Duration]:
        """The durations of the paper's three-period trial, each declared under its argument's name."""
        return {"fixation": self.declare_period("fixation", fixation, "fixation"),
                "stimulus": self.declare_period("stimulus", stimulus_duration, "stimulus_duration"),
                "decision": self.declare_period("decision", decision, "decision")}

    def choice_domain(self) -> Domain:
        """``ground_truth``: the index of a choice."""
        return Values(range(len(self.output_names)), what="the correct choice")

    def write_choice_targets(self, tr: Trials, *, fixation: tuple[str, ...] = ("fixation",),
                             decision: str = "decision", high: float = HIGH,
                             window: np.ndarray | None = None) -> None:
        """Low on every output during ``fixation``; high on the correct output and low on the
        others in the decision window; mask 1 on both; ``gt`` = ground_truth + 1 in the window.

        The window is the ``decision`` period, or ``window`` (B, 2) ``[start, end)`` steps when it
        is not a period (then ``fixation`` must be the trial's first periods, and nothing between
        their end and the window is constrained).
        """
        gt = tr.params["ground_truth"]
        level = np.where(gt[:, None] == np.arange(tr.targets.shape[2]), np.float32(high), np.float32(LOW))
        if window is None:
            tr.per_period({**{name: LOW for name in fixation}, decision: level}, out=tr.targets)
            tr.per_period({**{name: 1.0 for name in fixation}, decision: 1.0}, out=tr.mask)
            tr.per_period({decision: gt + 1}, out=tr.gt)
            return
        # Four runs per trial: fixation, unconstrained wait, the window, the rest.
        fixation_end = tr.periods[fixation[-1]][:, 1]
        counts = np.stack([fixation_end, window[:, 0] - fixation_end, window[:, 1] - window[:, 0],
                           tr.n_steps - window[:, 1]], axis=1)
        rows = tr.runs(counts, np.arange(4), 4)
        targets = np.zeros((tr.n, 4, level.shape[1]), dtype=np.float32)
        targets[:, 0], targets[:, 2] = LOW, level
        mask = np.zeros((tr.n, 4, level.shape[1]), dtype=np.float32)
        mask[:, [0, 2]] = 1.0
        labels = np.zeros((tr.n, 4), dtype=np.int64)
        labels[:, 2] = gt + 1
        tr.lay_out(targets, rows, tr.targets)
        tr.lay_out(mask, rows, tr.mask)
        tr.lay_out(labels, rows, tr.gt)
