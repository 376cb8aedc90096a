"""What a report analyses: a run folder's task and trained model, and how to make it behave on trials.

A network of the model zoo is simulated (outputs and rates: the hidden state for gru/lstm) and decoded
by ``task.evaluate(outputs=...)``; an RL agent (SB3) plays each trial with deterministic actions,
decoded by ``task.evaluate(actions=...)``, and has no rates, so only behavioural analyses apply to it.
Every analysis asks the subject for what it needs and gets a :class:`Skip` naming why not.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np


class Skip(Exception):
    """An analysis that does not apply to this run (the reason is written into the report)."""


class BadRun(ValueError):
    """A run folder that cannot be analysed (missing, corrupt, or its model cannot be loaded)."""


@dataclass
class Subject:
    """A loaded run: ``task``, ``model`` (a network or an SB3 agent), ``model_name`` (registry name or agent),
    ``agent`` (True for RL runs), ``config`` (config.json), ``seed`` and ``n_trials`` for the analyses."""

    path: Path
    task: Any
    model: Any
    model_name: str
    agent: bool
    config: dict[str, Any]
    seed: int = 0
    n_trials: int = 1000
    metrics: dict[str, Any] = field(default_factory=dict)
    _standard: tuple | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ what the model offers
    @property
    def has_rates(self) -> bool:
        """A network (every model of the zoo returns rates or hidden states); an RL agent has none."""
        return not self.agent

    @property
    def rate_network(self) -> bool:
        """A continuous-time rate network with weights to read (eirnn, rnn, lowrank)."""
        return not self.agent and hasattr(self.model, "effective_weights")

    @property
    def n_exc(self) -> int | None:
        """Excitatory units (the first ones) under Dale's law, else None."""
        n_exc = getattr(self.model, "n_exc", None)
        if n_exc is None or not getattr(self.model, "dale", True) or int(n_exc) >= int(self.model.n_units):
            return None
        return int(n_exc)

    def need_rates(self, what: str) -> None:
        """Skip ``what`` for an RL agent."""
        if self.agent:
            raise Skip(f"{what} needs the network's rates; an RL agent ({self.model_name}) acts without exposing "
                       "them, so only behavioural analyses are run")

    def need_weights(self, what: str) -> None:
        """Skip ``what`` unless the model is a rate network with a W_rec of rate units."""
        self.need_rates(what)
        if not self.rate_network:
            raise Skip(f"{what} needs a rate network's recurrent weights; {self.model_name} is a gated network "
                       "(no W_rec between rate units)")

    # ------------------------------------------------------------------ running trials
    def rng(self, stream: int) -> np.random.Generator:
        """A generator for one analysis, from the report's seed and the analysis's own stream number."""
        return np.random.default_rng(np.random.SeedSequence([int(self.seed), int(stream)]))

    def simulate(self, batch: Any, noise: bool = True, model: Any = None) -> tuple[np.ndarray, np.ndarray]:
        """(outputs, rates) of the network (or ``model``, e.g. a lesioned copy) on ``batch``."""
        self.need_rates("simulation")
        from agents.simulation import simulate

        outputs, rates = simulate(self.model if model is None else model, batch, noise=noise, seed=self.seed)
        return np.asarray(outputs), np.asarray(rates)

    def behave(self, batch: Any, task: Any = None, noise: bool = True, model: Any = None
               ) -> tuple[dict[str, np.ndarray], np.ndarray | None, np.ndarray | None]:
        """(evaluation, outputs, rates) on ``batch``: rates and outputs are None for an RL agent."""
        task = self.task if task is None else task
        if self.agent:
            from agents.rl.acting import policy_actions

            return task.evaluate(batch, actions=policy_actions(self.model, batch)), None, None
        outputs, rates = self.simulate(batch, noise=noise, model=model)
        return task.evaluate(batch, outputs=outputs), outputs, rates

    def standard(self) -> tuple[Any, dict[str, np.ndarray], np.ndarray | None, np.ndarray | None]:
        """(batch, evaluation, outputs, rates) on the report's shared batch, made once: every condition of the
        task's grid repeated to about ``n_trials`` trials (plus zero coherence where there is one), no catch
        trials, the network's noise on (as the trainer validates; :func:`agents.plots.run_figures.analysis_batch`)."""
        if self._standard is None:
            from agents.plots.run_figures import analysis_batch

            try:
                n_conditions = len(next(iter(self.task.conditions().values())))
            except NotImplementedError:
                n_conditions = 1
            repeats = max(1, -(-self.n_trials // max(n_conditions, 1)))
            batch = analysis_batch(self.task, repeats, self.rng(0), max_trials=max(self.n_trials, n_conditions))
            self._standard = (batch, *self.behave(batch))
        return self._standard

    def variant(self, **overrides: Any) -> Any:
        """The run's task with some arguments changed (a fixed delay, other targets, more input noise...)."""
        import neurotasks

        kwargs = {**dict(self.config["task"].get("kwargs") or {}), **overrides}
        return neurotasks.make_task(self.config["task"]["id"], **kwargs)


def load_subject(run_dir: str | os.PathLike, *, seed: int = 0, n_trials: int = 1000) -> Subject:
    """The run folder's task and model; :class:`BadRun` with the reason when it cannot be loaded."""
    from agents.runs import RunDir, is_agent_run, model_config_of

    path = Path(run_dir)
    if not path.is_dir():
        raise BadRun(f"run folder {str(path)!r} does not exist")
    try:
        run = RunDir(path)
        config = run.config
        agent = is_agent_run(config)
        task = run.task()
        if agent:
            from agents.rl.sb3_runs import load_agent

            model, name = load_agent(path), str(config["agent"])
        else:
            model, name = run.model(), str(model_config_of(config)["name"])
    except ModuleNotFoundError:
        raise                                        # a missing extra: the CLI names it
    except Exception as err:   # a corrupt folder fails in many ways; all are one message
        raise BadRun(f"cannot load run folder {str(path)!r}: {type(err).__name__}: {err}") from None
    try:
        metrics = run.metrics
    except (OSError, ValueError):
        metrics = {}
    return Subject(path=path, task=task, model=model, model_name=name, agent=agent, config=config, seed=int(seed),
                   n_trials=int(n_trials), metrics=dict(metrics) if isinstance(metrics, Mapping) else {})
