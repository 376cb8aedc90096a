"""Where each of NeuroGym 2.3.1's native tasks lives here: the task id, the arguments that match
NeuroGym's set-up where they differ from the defaults, and what is different.

For NeuroGym users: ``neurogym_counterpart("MotorTiming")`` says which task to make. Tasks that
an existing task already covers are not copied: NeuroGym's DelayComparison is the Romo task of
``ParametricWorkingMemory-v0``, its MotorTiming is Wang et al.'s ``CueSetGo-v0``, its AntiReach is
Yang et al.'s anti-saccade task. Tasks with no counterpart would be listed with the reason in
``NO_COUNTERPART`` (none is left: the agent-dependent Bandit, DawTwoStep, HierarchicalReasoning and
Reaching1DWithSelfDistraction run on ``neurotasks.tasks.trial_stream`` and the rules' ``observe`` hook).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from neurotasks.registry import make_task
from neurotasks.task import Task


@dataclass(frozen=True)
class Counterpart:
    """A NeuroGym task's counterpart: ``make_task(task_id, **kwargs)``, and how it differs."""

    task_id: str
    kwargs: dict[str, Any] = field(default_factory=dict)
    note: str = ""


NEUROGYM_COUNTERPARTS: dict[str, Counterpart] = {
    "AntiReach": Counterpart("Yang19Anti-v0", note="anti=True; a ring of 32 directions, fixation offset as the go "
                             "cue (Yang et al. 2019's Anti). anti=False is Yang19Go-v0."),
    "Bandit": Counterpart("Bandit-v0", {"arm_probs": (0.5, 0.5)},
                          note="NeuroGym's fixed probabilities (arm_probs); the default is Wang et al. 2018's "
                          "episodes of 100 trials with p_1 ~ U[0, 1], p_2 = 1 - p_1. Action 0 pulls none; the "
                          "previous action and reward are the agent's to feed back"),
    "ContextDecisionMaking": Counterpart("ContextDecision-v0", note="use_expl_context=True; Song et al. 2016's "
                                         "coding. use_expl_context=False is SingleContextDecision-v0."),
    "DawTwoStep": Counterpart("DawTwoStep-v0", note="Daw et al. 2011's 0.7 / 0.3 transitions and four reward "
                              "probabilities drifting as reflected Gaussian walks (sd 0.025 in [0.25, 0.75]); "
                              "NeuroGym's 0.8 / 0.2 and two probabilities (0.9, 0.1) that swap with p = 0.025 "
                              "are not offered"),
    "DelayComparison": Counterpart("ParametricWorkingMemory-v0", {"delay": 1000.0},
                                   note="the same Romo et al. frequency pairs; the paper's delay is 3 s (the "
                                   "default), NeuroGym's 1 s"),
    "DelayMatchCategory": Counterpart("DelayMatchCategory-v0"),
    "DelayMatchSample": Counterpart("DelayMatchSample-v0"),
    "DelayMatchSampleDistractor1D": Counterpart("DelayMatchSampleDistractor1D-v0"),
    "DelayPairedAssociation": Counterpart("DelayPairedAssociation-v0", {"delay": 1000.0},
                                          note="NeuroGym's 1 s delay; the paper's 5 s is the default"),
    "DualDelayMatchSample": Counterpart("DualDelayMatchSample-v0"),
    "EconomicDecisionMaking": Counterpart("EconomicDecision-v0"),
    "GoNogo": Counterpart("GoNogo-v0"),
    "HierarchicalReasoning": Counterpart("HierarchicalReasoning-v0", {"dt": 100.0},
                                         note="the rule switches unannounced every 10-20 trials as in NeuroGym; "
                                         "no rule report (NeuroGym's rule_target period), and the short/long "
                                         "boundary is the intervals' median, 850 ms (NeuroGym's is 610 ms)"),
    "IntervalDiscrimination": Counterpart("IntervalDiscrimination-v0"),
    "MotorTiming": Counterpart("CueSetGo-v0", note="Wang, Narain et al. 2018's two cued intervals (800, 1500 ms)"),
    "MultiSensoryIntegration": Counterpart("MultisensoryIntegration-v0"),
    "OneTwoThreeGo": Counterpart("OneTwoThreeGo-v0"),
    "PerceptualDecisionMaking": Counterpart("PerceptualDecision-v0"),
    "PerceptualDecisionMakingDelayResponse": Counterpart("PerceptualDecisionDelayResponse-v0"),
    "PostDecisionWager": Counterpart("PostDecisionWager-v0"),
    "ProbabilisticReasoning": Counterpart("ProbabilisticReasoning-v0"),
    "PulseDecisionMaking": Counterpart("PulseDecision-v0"),
    "Reaching1D": Counterpart("DelayedReach-v0", {"delay": 0.0},
                              note="Georgopoulos et al. 1986's centre-out reach to 8 targets, with continuous hand "
                              "outputs; NeuroGym's closed-loop cursor (its observation follows the agent's actions) "
                              "is not modelled"),
    "Reaching1DWithSelfDistraction": Counterpart("Reaching1DWithSelfDistraction-v0",
                                                 note="NeuroGym's numbers; the cursor is the rule's state and its "
                                                 "observe hook writes the observation (closed loop); no supervised "
                                                 "target"),
    "ReadySetGo": Counterpart("ReadySetGo-v0"),
    "SingleContextDecisionMaking": Counterpart("SingleContextDecision-v0"),
    "SpatialSuppressMotion": Counterpart("SpatialSuppressMotion-v0"),
    "ToneDetection": Counterpart("ToneDetection-v0"),
}

#: NeuroGym tasks without a counterpart here, and why.
NO_COUNTERPART: dict[str, str] = {}


def neurogym_counterpart(name: str) -> Counterpart:
    """The counterpart of NeuroGym's task ``name`` (its class name), or a ValueError saying why there is none."""
    if name in NEUROGYM_COUNTERPARTS:
        return NEUROGYM_COUNTERPARTS[name]
    if name in NO_COUNTERPART:
        raise ValueError(f"NeuroGym's {name} has no counterpart here: {NO_COUNTERPART[name]}")
    known = ", ".join(sorted({*NEUROGYM_COUNTERPARTS, *NO_COUNTERPART}))
    raise ValueError(f"unknown NeuroGym task {name!r}; known: {known}")


def make_neurogym_counterpart(name: str, **kwargs: Any) -> Task:
    """The counterpart of NeuroGym's task ``name`` with NeuroGym's set-up (``kwargs`` override it)."""
    counterpart = neurogym_counterpart(name)
    return make_task(counterpart.task_id, **{**counterpart.kwargs, **kwargs})
