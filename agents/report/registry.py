"""Every analysis a report can hold, the paper figure it corresponds to, and which run each applies to
by default (``--only`` runs any of them on any run; those that do not fit are skipped with the reason)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from agents.report import (
    behaviour,
    context_dependence,
    delayed_reach,
    fixed_points,
    multisensory,
    multitask,
    robustness,
    selectivity,
    sequence,
    unit_lesions,
    working_memory,
)

DECISION = ("PerceptualDecision-v0", "PerceptualDecisionRT-v0", "ContextDecision-v0", "MultisensoryIntegration-v0")


@dataclass(frozen=True)
class Analysis:
    """``run(subject, section)`` fills a section; ``tasks`` are the task ids it runs on by default, or a
    predicate on the task."""

    name: str
    title: str
    paper_figure: str
    run: Callable[..., None]
    tasks: tuple[str, ...] | Callable[[Any], bool]

    def default_for(self, task: Any) -> bool:
        return self.tasks(task) if callable(self.tasks) else task.id in self.tasks


def _continuous(task: Any) -> bool:
    return getattr(task, "action_names", None) is None and not multitask.is_mixture(task)


ANALYSES: tuple[Analysis, ...] = (
    Analysis("psychometric", "Psychometric curve", "Song et al. 2016, Fig. 2C", behaviour.psychometric, DECISION),
    Analysis("chronometric", "Chronometric curve (correct and error trials)", "Song et al. 2016, Fig. 2F",
             behaviour.chronometric, ("PerceptualDecisionRT-v0",)),
    Analysis("duration", "Accuracy against stimulus duration", "Song et al. 2016, Fig. 2E", behaviour.duration,
             ("PerceptualDecision-v0",)),
    Analysis("selectivity", "Choice selectivity and connectivity sorted by it", "Song et al. 2016, Fig. 3",
             selectivity.selectivity, ("PerceptualDecision-v0", "PerceptualDecisionRT-v0")),
    Analysis("tdr", "State space on the regression axes (choice, motion, colour, context)",
             "Song et al. 2016, Fig. 4B; Mante et al. 2013", context_dependence.targeted_state_space,
             ("ContextDecision-v0",)),
    Analysis("multisensory", "Per-modality thresholds and the optimal-integration prediction",
             "Song et al. 2016, Fig. 6B", multisensory.optimal_integration, ("MultisensoryIntegration-v0",)),
    Analysis("wm_conditions", "Performance per (f1, f2) condition", "Song et al. 2016, Fig. 7B",
             working_memory.conditions, ("ParametricWorkingMemory-v0",)),
    Analysis("f1_tuning", "Units' f1 tuning over time and traces coloured by f1", "Song et al. 2016, Fig. 7C-E",
             working_memory.f1_tuning, ("ParametricWorkingMemory-v0",)),
    Analysis("delay_generalisation", "Delays outside the trained range", "Song et al. 2016, Fig. 7B (beyond)",
             working_memory.delay_generalisation, ("ParametricWorkingMemory-v0",)),
    Analysis("sequences", "Eye trajectories per sequence and the state space", "Song et al. 2016, Fig. 8C",
             sequence.sequences, ("SequenceExecution-v0",)),
    Analysis("fixed_points", "Fixed and slow points", "Sussillo & Barak 2013", fixed_points.fixed_points,
             ("FlipFlop-v0",)),
    Analysis("input_noise", "Robustness to input noise", "Kao 2021", robustness.input_noise, _continuous),
    Analysis("lesions", "Lesions of unit groups", "Kao 2021", unit_lesions.lesions,
             ("DelayedReach-v0", "PerceptualDecision-v0")),
    Analysis("reach_generalisation", "Generalisation to untrained targets and target switches", "Kao 2021",
             delayed_reach.generalisation, ("DelayedReach-v0",)),
    Analysis("jpca", "Rotational dynamics during the reach (jPCA plane)", "Kao 2021; Churchland et al. 2012",
             delayed_reach.rotations, ("DelayedReach-v0",)),
    Analysis("task_variance", "Task variance of units, their clusters and the clusters' lesions",
             "Yang et al. 2019, Fig. 2", multitask.task_variance_clusters, multitask.is_mixture),
)

BY_NAME = {a.name: a for a in ANALYSES}


def names() -> list[str]:
    return [a.name for a in ANALYSES]


def select(task: Any, only: Sequence[str] | None = None) -> list[Analysis]:
    """The analyses of a report: ``only`` (in the registry's order; unknown names are a ValueError listing the
    known ones), else those that apply to ``task`` by default (may be empty)."""
    if only:
        unknown = [name for name in only if name not in BY_NAME]
        if unknown:
            raise ValueError(f"unknown analysis name(s) {', '.join(unknown)}; known: {', '.join(names())}")
        return [a for a in ANALYSES if a.name in set(only)]
    return [a for a in ANALYSES if a.default_for(task)]
