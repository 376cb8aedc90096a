"""Every NeuroGym 2.3.1 native task has a counterpart here, or a stated reason why not."""

from __future__ import annotations

import pytest

import neurotasks
from neurotasks.tasks.neurogym_counterparts import (
    NEUROGYM_COUNTERPARTS,
    NO_COUNTERPART,
    make_neurogym_counterpart,
    neurogym_counterpart,
)

#: NeuroGym 2.3.1's native task classes (neurogym/envs/native/*.py), less its Null and AnnubesEnv.
NEUROGYM_NATIVE = {
    "AntiReach", "Bandit", "ContextDecisionMaking", "DawTwoStep", "DelayComparison", "DelayMatchCategory",
    "DelayMatchSample", "DelayMatchSampleDistractor1D", "DelayPairedAssociation", "DualDelayMatchSample",
    "EconomicDecisionMaking", "GoNogo", "HierarchicalReasoning", "IntervalDiscrimination", "MotorTiming",
    "MultiSensoryIntegration", "OneTwoThreeGo", "PerceptualDecisionMaking", "PerceptualDecisionMakingDelayResponse",
    "PostDecisionWager", "ProbabilisticReasoning", "PulseDecisionMaking", "Reaching1D", "Reaching1DWithSelfDistraction",
    "ReadySetGo", "SingleContextDecisionMaking", "SpatialSuppressMotion", "ToneDetection"}


def test_every_native_task_is_accounted_for_once():
    assert set(NEUROGYM_COUNTERPARTS) | set(NO_COUNTERPART) == NEUROGYM_NATIVE
    assert not set(NEUROGYM_COUNTERPARTS) & set(NO_COUNTERPART)


@pytest.mark.parametrize("name", sorted(NEUROGYM_COUNTERPARTS))
def test_counterparts_are_registered_and_take_their_arguments(name):
    counterpart = neurogym_counterpart(name)
    assert counterpart.task_id in neurotasks.list_tasks()
    task = make_neurogym_counterpart(name)
    assert task.id == counterpart.task_id and task.kwargs == counterpart.kwargs


def test_new_tasks_carry_the_neurogym_tag():
    ours = {c.task_id for c in NEUROGYM_COUNTERPARTS.values()}
    tagged = set(neurotasks.list_tasks("neurogym"))
    assert tagged <= ours and len(tagged) >= 14


def test_missing_and_unknown_names_say_why():
    assert not NO_COUNTERPART                       # every native task has one now
    with pytest.raises(ValueError, match="unknown NeuroGym task 'Nope'"):
        neurogym_counterpart("Nope")
    assert make_neurogym_counterpart("DelayComparison", delay=2000.0).kwargs == {"delay": 2000.0}
