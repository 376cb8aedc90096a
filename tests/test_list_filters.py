"""``neurotasks.list_tasks`` and ``neurotasks list`` filter by tag and by source (the task's reference)."""

import json

import pytest

import neurotasks
from agents.cli import main


def test_source_filters_on_the_reference_case_insensitively():
    yang = neurotasks.list_tasks(source="Yang et al. 2019")
    assert len(yang) == 20 and all(task_id.startswith("Yang19") for task_id in yang)
    assert neurotasks.list_tasks(source="yang ET AL. 2019") == yang
    song = neurotasks.list_tasks(source="Song, Yang & Wang 2016")
    assert {"PerceptualDecision-v0", "ContextDecision-v0", "MultisensoryIntegration-v0",
            "ParametricWorkingMemory-v0", "SequenceExecution-v0"} <= set(song)
    neurogym = neurotasks.list_tasks(source="NeuroGym")
    assert "GoNogo-v0" in neurogym and "PerceptualDecision-v0" not in neurogym
    assert neurotasks.list_tasks(source="no such paper") == []


def test_tag_and_source_combine():
    both = neurotasks.list_tasks(tag="working memory", source="Yang et al. 2019")
    assert both and set(both) == set(neurotasks.list_tasks(tag="working memory")) & set(
        neurotasks.list_tasks(source="Yang et al. 2019"))


@pytest.mark.parametrize("name", ["tag", "source"])
def test_a_filter_must_be_text(name):
    with pytest.raises(TypeError, match=f"{name} must be a string"):
        neurotasks.list_tasks(**{name: 3})


def test_the_command_filters_by_source_and_tag(capsys):
    assert main(["list", "--source", "neurogym", "--tag", "go/no-go", "--format", "json"]) == 0
    listed = [d["id"] for d in json.loads(capsys.readouterr().out)]
    assert listed == sorted(set(neurotasks.list_tasks(source="NeuroGym")) & set(neurotasks.list_tasks("go/no-go")))
    assert "GoNogo-v0" in listed
