"""A named task mixture seen as one task, so that one network trains on all its tasks with the trainer.

``neurotasks train yang19`` trains one network on Yang et al. (2019)'s 20 tasks. The trainer, the run folder
and the analyses speak to a task through a few parts of the :class:`neurotasks.Task` interface: its id and
keyword arguments (what config.json records, to remake it), its channels and time step, ``trials``,
``evaluate`` and ``score``, a condition grid for validation, a criterion and a suggested network.
:class:`MixtureTask` gives a :class:`neurotasks.mixture.TaskMixture` those parts:

- training trials are the mixture's, in its proportions (Yang's: Ctx DM 1 and 2 five times as often);
- the condition grid is the tasks themselves: validation draws every task equally often, so each task's
  score in the history rests on the same number of trials;
- ``score`` has every task's own metrics (``<id>/percent_correct``), ``min_task_percent_correct`` and
  ``tasks_at_criterion``, the number of tasks whose score on this validation passes that task's own
  criterion threshold (Yang's tasks: percent correct > 90; one validation, not the mean of five);
- the criterion: every task at its criterion (``tasks_at_criterion >= 20`` for yang19).

It is not a Gymnasium environment (a mixture's env is :class:`neurotasks.mixture.MixtureEnv`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from neurotasks.batch import TrialBatch
from neurotasks.criterion import Criterion
from neurotasks.mixture import TASK_PARAM, TaskMixture

#: score key: how many of the mixture's tasks meet their own criterion's threshold on this validation
AT_CRITERION = "tasks_at_criterion"


def _yang19(**kwargs: Any) -> TaskMixture:
    from neurotasks.tasks.yang19 import yang19_mixture

    return yang19_mixture(**kwargs)


#: name -> the function making the mixture (its keyword arguments are the mixture task's kwargs)
MIXTURES: dict[str, Callable[..., TaskMixture]] = {"yang19": _yang19}

#: Yang et al. 2019's network (github.com/gyyang/multitask, train.py ``get_default_hp``): LeakyRNN of
#: ``n_rnn`` 256 ReLU units, τ 100 ms, ``sigma_rec`` 0.05; the trainer's Adam at 256 units takes their
#: learning rate 0.001 (agents.training.presets) and batches of 64 (``batch_size_train``).
YANG19_NETWORK = {"n_units": 256, "tau": 100.0, "sigma_rec": 0.05, "nonlinearity": "relu"}
NETWORKS = {"yang19": YANG19_NETWORK}
#: Yang et al. 2019's cost is the weighted squared error alone: no vanishing-gradient regulariser Ω (Song et al.
#: 2016's, which the presets add with λ_Ω = 2). ``train yang19`` (seed 0) without it met > 90 % on 19 of 20 tasks
#: after 2.85 M trials; with it, 18 after 4.83 M (README).
TRAINER_DEFAULTS = {"yang19": {"lambda_omega": 0.0}}


def is_mixture_name(name: Any) -> bool:
    return isinstance(name, str) and name in MIXTURES


def make_mixture_task(name: str, **kwargs: Any) -> MixtureTask:
    """The named mixture (:data:`MIXTURES`) as a task; ``kwargs`` go to its maker (``dt``, ``proportions``)."""
    if not is_mixture_name(name):
        raise ValueError(f"unknown task mixture {name!r}; known: {', '.join(sorted(MIXTURES))}")
    return MixtureTask(name, MIXTURES[name](**kwargs), kwargs, suggested_network=NETWORKS.get(name),
                       trainer_defaults=TRAINER_DEFAULTS.get(name))


class MixtureTask:
    """``mixture`` as one task named ``name`` (made again from ``kwargs`` by :func:`make_mixture_task`)."""

    def __init__(self, name: str, mixture: TaskMixture, kwargs: Mapping[str, Any] | None = None, *,
                 suggested_network: Mapping[str, Any] | None = None,
                 trainer_defaults: Mapping[str, Any] | None = None) -> None:
        if not isinstance(mixture, TaskMixture):
            raise TypeError(f"mixture must be a neurotasks.mixture.TaskMixture, got {type(mixture).__name__}")
        self.id, self.mixture, self.kwargs = str(name), mixture, dict(kwargs or {})
        self.tasks, self.ids, self.dt = mixture.tasks, mixture.ids, mixture.dt
        self.input_names, self.output_names = mixture.input_names, mixture.output_names
        self.period_names = mixture.period_names
        self.output_range = (min(float(t.output_range[0]) for t in self.tasks),
                             max(float(t.output_range[1]) for t in self.tasks))
        self.criterion = Criterion(AT_CRITERION, ">=", float(len(self.tasks)), window=1)
        #: the network to train (default: the first task's suggestion)
        self.suggested_network = dict(suggested_network if suggested_network is not None
                                      else type(self.tasks[0]).suggested_network)
        #: trainer settings a run on the mixture starts from (over the preset; explicit settings win): 100
        #: validation trials per task, a validation every 200 updates of 64 trials, then ``trainer_defaults``
        self.trainer_defaults = {"validation_trials": 100 * len(self.tasks), "validation_every": 12_800,
                                 **dict(trainer_defaults or {})}
        self._equal = TaskMixture(list(self.tasks), None, rule_inputs=mixture.rule_inputs)

    def __repr__(self) -> str:
        return f"MixtureTask({self.id!r}, {len(self.tasks)} tasks)"

    def trials(self, n: int, rng: np.random.Generator | int | None = None) -> TrialBatch:
        """``n`` training trials in the mixture's proportions."""
        return self.mixture.trials(n, rng)

    def conditions(self) -> dict[str, np.ndarray]:
        """The grid validation repeats: one condition per task."""
        return {TASK_PARAM: np.arange(len(self.tasks))}

    def grid_trials(self, repeats: int, rng: np.random.Generator | int | None = None) -> TrialBatch:
        """``repeats`` trials of every task, mixed (the channels and task indices are the mixture's)."""
        return self._equal.trials(int(repeats) * len(self.tasks), rng)

    def evaluate(self, batch: TrialBatch, outputs: np.ndarray | None = None,
                 actions: np.ndarray | None = None) -> dict[str, np.ndarray]:
        return self.mixture.evaluate(batch, outputs=outputs, actions=actions)

    def score(self, batch: TrialBatch, evaluation: Mapping[str, np.ndarray]) -> dict[str, float]:
        """The mixture's scores and :data:`AT_CRITERION` (each task's criterion threshold on this batch)."""
        scores = self.mixture.score(batch, evaluation)
        met = 0
        for task in self.tasks:
            value = scores.get(f"{task.id}/{task.criterion.metric}", math.nan)
            own = task.criterion
            met += bool(math.isfinite(value) and Criterion(own.metric, own.op, own.threshold).met([value]))
        scores[AT_CRITERION] = float(met)
        return scores
