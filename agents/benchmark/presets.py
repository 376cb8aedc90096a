"""Named benchmarks: ``neurotasks benchmark --preset NAME`` (any option given beside it wins).

``quick``: a newcomer's first table in a few minutes on 2 cores. The two fastest decision tasks of
the paper with a coherence axis (PerceptualDecision-v0, ContextDecision-v0), every available
supervised model (eirnn, rnn, gru, lstm, lowrank), one seed, at most 1 minute and 100,000 training
trials per run: 10 cells, 2 at a time (3 min 20 s on this project's 2-core machine, shared, load 5).

``decision``: the README's table (issue 9, item 5): the paper's five decision tasks × eirnn, rnn,
gru, lowrank, recurrent-ppo × 3 seeds, at most 10 minutes per run (75 cells).
"""

from __future__ import annotations

from dataclasses import dataclass

from agents.benchmark import zoo

DECISION_TASKS = ("PerceptualDecision-v0", "PerceptualDecisionRT-v0", "ContextDecision-v0",
                  "MultisensoryIntegration-v0", "ParametricWorkingMemory-v0")


@dataclass(frozen=True)
class BenchmarkPreset:
    """A benchmark's settings; ``models`` None means every available supervised model."""

    summary: str
    tasks: tuple[str, ...]
    models: tuple[str, ...] | None
    seeds: int
    max_minutes: float | None
    max_trials: int | None

    def model_names(self) -> tuple[str, ...]:
        return self.models if self.models is not None else tuple(zoo.available("supervised"))


PRESETS: dict[str, BenchmarkPreset] = {
    "quick": BenchmarkPreset("2 decision tasks × every available supervised model × 1 seed, ≤ 1 min per run",
                             tasks=("PerceptualDecision-v0", "ContextDecision-v0"), models=None, seeds=1,
                             max_minutes=1.0, max_trials=100_000),
    "decision": BenchmarkPreset("the paper's 5 decision tasks × eirnn, rnn, gru, lowrank, recurrent-ppo × 3 seeds, "
                                "≤ 10 min per run",
                                tasks=DECISION_TASKS, models=("eirnn", "rnn", "gru", "lowrank", "recurrent-ppo"),
                                seeds=3, max_minutes=10.0, max_trials=None),
}
