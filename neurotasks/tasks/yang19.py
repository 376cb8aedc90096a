"""Yang et al. (2019)'s 20 tasks: one table of task specifications and one vectorised builder.

Yang, Joglekar, Song, Newsome & Wang (2019) Nat Neurosci 22: 297-306, Fig. 1 and Methods; the
timings, stimulus statistics and coding follow their code (github.com/gyyang/multitask,
``task.py``, ``'random'`` mode). Every task has the same channels: a fixation input, two
modalities of 32 direction-tuned ring units and 20 rule inputs (one per task, on for the whole
trial), and a fixation output plus 32 ring outputs (``neurotasks.tasks.yang19_ring``).

The 20 tasks differ only in data (``SPECS``): which periods a trial has and what they last
(``LAYOUTS``), which stimuli are drawn (one direction; two directions with strengths to compare;
two directions to match) and what the answer is. ``Yang19Task`` builds all of them with one
``sample_params`` and one ``fill``; each task is a subclass made from its spec, registered under
``Yang19<Name>-v0``.

Departures from the code, each because the engine draws trials independently: Yang draws one
set of durations and one stimulus modality per batch, here they are drawn per trial (the
distributions are the same); durations are rounded to ``dt`` rather than truncated; the
multisensory tasks draw their modality split from the task's generator (Yang's code used NumPy's
global one).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from neurotasks.criterion import Criterion
from neurotasks.domains import Domain, Reals, Values
from neurotasks.mixture import TaskMixture
from neurotasks.task import MAX_BATCH_BYTES, MAX_TRIAL_STEPS, Task, Trials, check_values
from neurotasks.tasks.yang19_ring import (
    GRACE_MS,
    IGNORED_START_MS,
    N_RING,
    TARGET_FIXATE,
    TARGET_LOW,
    RingRule,
    grace_steps,
    nearest_unit,
    ring_bump,
)
from neurotasks.timing import Choice, Constant, Duration, Uniform

TWO_PI = 2.0 * np.pi
#: The directions of the category tasks (DMC, DNMC): 0.1 pi, 0.3 pi, ..., 1.9 pi; category 0 below pi.
CATEGORY_DIRECTIONS = np.pi * np.arange(0.1, 2.0, 0.2)
#: Coherences of the decision tasks without a delay (DM, Ctx DM, MultSen DM) and with one.
DM_COHERENCES = (0.01, 0.02, 0.04, 0.08)
DELAY_DM_COHERENCES = (0.08, 0.16, 0.32)
#: Mean strength of the two compared stimuli: uniform on this range.
MEAN_STRENGTH = (0.8, 1.2)
#: Largest strength a compared stimulus can be forced to (the observation bounds assume it).
MAX_STRENGTH = 3.0


@dataclass(frozen=True)
class Layout:
    """The periods of a trial, their default durations (ms), and where each input is on."""

    periods: tuple[str, ...]
    durations: Mapping[str, Duration]
    fixation_input: tuple[str, ...]      # periods with the fixation input on
    stimulus_1: tuple[str, ...]          # periods showing the first stimulus
    stimulus_2: tuple[str, ...] = ()     # periods showing the second


_DELAYS = Choice((200.0, 400.0, 800.0, 1600.0))
_SHORT = Choice((200.0, 400.0, 600.0))
_GO = Constant(500.0)

LAYOUTS: dict[str, Layout] = {
    # Go, Anti: the stimulus comes on during fixation and stays on; fixation offset is the go cue.
    "go": Layout(("fixation", "stimulus", "go"),
                 {"fixation": Uniform(300.0, 700.0), "stimulus": Uniform(500.0, 1500.0), "go": _GO},
                 ("fixation", "stimulus"), ("stimulus", "go")),
    # RT Go, RT Anti: the fixation input stays on; the stimulus onset is the go cue.
    "reaction_time": Layout(("fixation", "go"), {"fixation": Uniform(500.0, 2500.0), "go": _GO},
                            ("fixation", "go"), ("go",)),
    # Dly Go, Dly Anti: a brief stimulus, a delay, then the go cue.
    "delay_go": Layout(("fixation", "stimulus", "delay", "go"),
                       {"fixation": Choice((300.0, 500.0, 700.0)), "stimulus": _SHORT, "delay": _DELAYS, "go": _GO},
                       ("fixation", "stimulus", "delay"), ("stimulus",)),
    # DM, Ctx DM, MultSen DM: two stimuli at once until the go cue.
    "decision": Layout(("fixation", "stimulus", "go"),
                       {"fixation": Uniform(100.0, 400.0), "stimulus": Choice((400.0, 800.0, 1600.0)), "go": _GO},
                       ("fixation", "stimulus"), ("stimulus",), ("stimulus",)),
    # Dly DM, Ctx Dly DM, MultSen Dly DM: two brief stimuli separated by a delay.
    "delay_decision": Layout(("fixation", "stimulus_1", "delay_1", "stimulus_2", "delay_2", "go"),
                             {"fixation": _SHORT, "stimulus_1": _SHORT, "delay_1": _DELAYS, "stimulus_2": _SHORT,
                              "delay_2": Uniform(100.0, 300.0), "go": _GO},
                             ("fixation", "stimulus_1", "delay_1", "stimulus_2", "delay_2"),
                             ("stimulus_1",), ("stimulus_2",)),
    # DMS, DNMS: a sample, a delay, then the test stimulus, which is the go cue; fixation input stays on.
    "match": Layout(("fixation", "stimulus_1", "delay", "go"),
                    {"fixation": _SHORT, "stimulus_1": _SHORT, "delay": _DELAYS, "go": _GO},
                    ("fixation", "stimulus_1", "delay", "go"), ("stimulus_1",), ("go",)),
    # DMC, DNMC: the same with a shorter, variable response period.
    "match_category": Layout(("fixation", "stimulus_1", "delay", "go"),
                             {"fixation": _SHORT, "stimulus_1": _SHORT, "delay": _DELAYS, "go": _SHORT},
                             ("fixation", "stimulus_1", "delay", "go"), ("stimulus_1",), ("go",)),
}


@dataclass(frozen=True)
class Yang19Spec:
    """One of the 20 tasks, as data.

    Attributes:
        name: the paper's name (``"Ctx Dly DM 1"``).
        key: the name in Yang's code (``"contextdelaydm1"``), for cross-reference.
        rule: the suffix of the task's rule input (``rule_ctx_dly_dm1``) and of its class.
        layout: a key of ``LAYOUTS``.
        stimuli: ``"single"`` (one direction to go to), ``"compare"`` (two directions; go to the
            stronger) or ``"match"`` (two directions; go to the second if they match, or not).
        anti: respond opposite the stimulus (single).
        modalities: compare: ``"1"``/``"2"`` (stimuli on that modality only), ``"ctx1"``/``"ctx2"``
            (on both, attend one), ``"both"`` (on both, integrate the sum).
        coherences: compare: the strength differences drawn.
        category: match: by category (the half of the ring) rather than by direction.
        go_on_match: match: saccade on a match (DMS, DMC) or on a non-match (DNMS, DNMC).
    """

    name: str
    key: str
    rule: str
    layout: str
    stimuli: str
    description: str
    tags: tuple[str, ...]
    anti: bool = False
    modalities: str = ""
    coherences: tuple[float, ...] = ()
    category: bool = False
    go_on_match: bool = True


_GO_TAGS = ("yang19", "multitask", "paper", "ring")
_DM_TAGS = ("yang19", "multitask", "paper", "ring", "decision", "evidence integration")
_MATCH_TAGS = ("yang19", "multitask", "paper", "ring", "working memory", "go/no-go")

SPECS: tuple[Yang19Spec, ...] = (
    Yang19Spec("Go", "fdgo", "Go", "go", "single", "Saccade to the stimulus when the fixation input goes off.",
               _GO_TAGS),
    Yang19Spec("RT Go", "reactgo", "RTGo", "reaction_time", "single",
               "Saccade to the stimulus as soon as it appears.", (*_GO_TAGS, "reaction time")),
    Yang19Spec("Dly Go", "delaygo", "DlyGo", "delay_go", "single",
               "Remember a brief stimulus; saccade to it when the fixation input goes off.",
               (*_GO_TAGS, "working memory")),
    Yang19Spec("Anti", "fdanti", "Anti", "go", "single",
               "Saccade opposite the stimulus when the fixation input goes off.", (*_GO_TAGS, "anti"), anti=True),
    Yang19Spec("RT Anti", "reactanti", "RTAnti", "reaction_time", "single",
               "Saccade opposite the stimulus as soon as it appears.", (*_GO_TAGS, "anti", "reaction time"),
               anti=True),
    Yang19Spec("Dly Anti", "delayanti", "DlyAnti", "delay_go", "single",
               "Remember a brief stimulus; saccade opposite it when the fixation input goes off.",
               (*_GO_TAGS, "anti", "working memory"), anti=True),
    Yang19Spec("DM 1", "dm1", "DM1", "decision", "compare",
               "Saccade to the stronger of two stimuli in modality 1.", _DM_TAGS, modalities="1",
               coherences=DM_COHERENCES),
    Yang19Spec("DM 2", "dm2", "DM2", "decision", "compare",
               "Saccade to the stronger of two stimuli in modality 2.", _DM_TAGS, modalities="2",
               coherences=DM_COHERENCES),
    Yang19Spec("Ctx DM 1", "contextdm1", "CtxDM1", "decision", "compare",
               "Both modalities carry two stimuli; saccade to the stronger in modality 1, ignoring modality 2.",
               (*_DM_TAGS, "context dependence"), modalities="ctx1", coherences=DM_COHERENCES),
    Yang19Spec("Ctx DM 2", "contextdm2", "CtxDM2", "decision", "compare",
               "Both modalities carry two stimuli; saccade to the stronger in modality 2, ignoring modality 1.",
               (*_DM_TAGS, "context dependence"), modalities="ctx2", coherences=DM_COHERENCES),
    Yang19Spec("MultSen DM", "multidm", "MultSenDM", "decision", "compare",
               "Saccade to the stimulus stronger in both modalities together.", (*_DM_TAGS, "multisensory"),
               modalities="both", coherences=DM_COHERENCES),
    Yang19Spec("Dly DM 1", "delaydm1", "DlyDM1", "delay_decision", "compare",
               "Two stimuli in modality 1, one after the other; saccade to the stronger.",
               (*_DM_TAGS, "working memory"), modalities="1", coherences=DELAY_DM_COHERENCES),
    Yang19Spec("Dly DM 2", "delaydm2", "DlyDM2", "delay_decision", "compare",
               "Two stimuli in modality 2, one after the other; saccade to the stronger.",
               (*_DM_TAGS, "working memory"), modalities="2", coherences=DELAY_DM_COHERENCES),
    Yang19Spec("Ctx Dly DM 1", "contextdelaydm1", "CtxDlyDM1", "delay_decision", "compare",
               "Two stimuli one after the other in both modalities; saccade to the stronger in modality 1.",
               (*_DM_TAGS, "working memory", "context dependence"), modalities="ctx1",
               coherences=DELAY_DM_COHERENCES),
    Yang19Spec("Ctx Dly DM 2", "contextdelaydm2", "CtxDlyDM2", "delay_decision", "compare",
               "Two stimuli one after the other in both modalities; saccade to the stronger in modality 2.",
               (*_DM_TAGS, "working memory", "context dependence"), modalities="ctx2",
               coherences=DELAY_DM_COHERENCES),
    Yang19Spec("MultSen Dly DM", "multidelaydm", "MultSenDlyDM", "delay_decision", "compare",
               "Two stimuli one after the other in both modalities; saccade to the stronger in both together.",
               (*_DM_TAGS, "working memory", "multisensory"), modalities="both", coherences=DELAY_DM_COHERENCES),
    Yang19Spec("DMS", "dmsgo", "DMS", "match", "match",
               "Saccade to the test stimulus if it matches the sample's direction; else keep fixating.",
               _MATCH_TAGS, go_on_match=True),
    Yang19Spec("DNMS", "dmsnogo", "DNMS", "match", "match",
               "Saccade to the test stimulus if it does not match the sample's direction; else keep fixating.",
               _MATCH_TAGS, go_on_match=False),
    Yang19Spec("DMC", "dmcgo", "DMC", "match_category", "match",
               "Saccade to the test stimulus if it is in the sample's category (half ring); else keep fixating.",
               (*_MATCH_TAGS, "categorization"), category=True, go_on_match=True),
    Yang19Spec("DNMC", "dmcnogo", "DNMC", "match_category", "match",
               "Saccade to the test stimulus if it is not in the sample's category; else keep fixating.",
               (*_MATCH_TAGS, "categorization"), category=True, go_on_match=False),
)

#: Channel names, shared by the 20 tasks.
RULE_INPUTS = tuple(f"rule_{spec.rule}" for spec in SPECS)
INPUT_NAMES = ("fixation", *(f"mod{m}_dir{k:02d}" for m in (1, 2) for k in range(N_RING)), *RULE_INPUTS)
OUTPUT_NAMES = ("fixation", *(f"dir{k:02d}" for k in range(N_RING)))
ACTION_NAMES = ("fixate", *(f"saccade_{k:02d}" for k in range(N_RING)))

_DIRECTION = Reals(0.0, TWO_PI, high_open=True, what="radians")
_STRENGTH = Reals(0.0, MAX_STRENGTH, what="stimulus strength")
_MODALITY = Values((1, 2), what="the stimulus modality")


class Yang19Task(Task):
    """Base of the 20 tasks: subclasses only set ``spec`` (see the generated classes' docstrings)."""

    spec: Yang19Spec
    input_names = INPUT_NAMES
    output_names = OUTPUT_NAMES
    action_names = ACTION_NAMES
    criterion = Criterion("percent_correct", ">", 90.0, window=5)
    signal_range = (0.0, 2.0 * 0.8 * MAX_STRENGTH)
    output_range = (0.0, 1.5)
    suggested_network = {"n_units": 256, "activation": "relu", "tau": 100.0, "recurrent_noise": 0.05}

    def __init__(self, *, dt: float = 20.0, timing: Mapping[str, Any] | None = None,
                 coherences: Sequence[float] | None = None, catch_prob: float = 0.0, catch_duration: float = 1000.0,
                 input_noise: float = 0.01, tau_in: float = 100.0, max_trial_steps: int = MAX_TRIAL_STEPS,
                 max_batch_bytes: int = MAX_BATCH_BYTES) -> None:
        super().__init__(dt=dt, catch_prob=catch_prob, catch_duration=catch_duration, input_noise=input_noise,
                         tau_in=tau_in, max_trial_steps=max_trial_steps, max_batch_bytes=max_batch_bytes)
        spec = self.spec
        layout = LAYOUTS[spec.layout]
        if timing is not None and not isinstance(timing, Mapping):
            raise TypeError(f"timing must be a mapping of period names to durations in ms, got {timing!r}")
        timing = dict(timing or {})
        unknown = sorted(set(timing) - set(layout.periods))
        if unknown:
            raise ValueError(f"timing has unknown period(s) {unknown} for {self.id}; "
                             f"its periods: {list(layout.periods)}")
        self.durations = {p: self.declare_period(p, timing.get(p, layout.durations[p]), f"timing[{p!r}]")
                          for p in layout.periods}
        if coherences is not None and spec.stimuli != "compare":
            raise ValueError(f"coherences is only an argument of the decision tasks, not of {self.id}")
        self.coherences = check_values(spec.coherences if coherences is None else coherences, "coherences", 0.0,
                                       MAX_STRENGTH / 2) if spec.stimuli == "compare" else np.zeros(0)
        self.rule = RingRule()
        self._rule_channel = INPUT_NAMES.index(f"rule_{spec.rule}")
        shown = np.zeros((len(layout.periods) + 1, 2), dtype=np.float32)   # (period or padding, stimulus)
        for s, periods in enumerate((layout.stimulus_1, layout.stimulus_2)):
            for p in periods:
                shown[layout.periods.index(p), s] = 1.0
        self._shown = shown
        self._fixation_input = np.array([p in layout.fixation_input for p in layout.periods] + [False])
        self._ignored, self._grace = grace_steps(IGNORED_START_MS, self.dt), grace_steps(GRACE_MS, self.dt)

    # ------------------------------------------------------------------ conditions
    def sample_params(self, n, rng):
        spec = self.spec
        if spec.stimuli == "single":
            return {"direction_1": rng.uniform(0.0, TWO_PI, size=n), "modality_1": rng.integers(1, 3, size=n)}
        if spec.stimuli == "match":
            if spec.category:
                return {"direction_1": CATEGORY_DIRECTIONS[rng.integers(0, 10, size=n)],
                        "direction_2": CATEGORY_DIRECTIONS[rng.integers(0, 10, size=n)],
                        "modality_1": rng.integers(1, 3, size=n), "modality_2": rng.integers(1, 3, size=n)}
            # A non-matching test lies 20 to 340 degrees from the sample (Yang: pi/9 to 17 pi/9, either sign).
            offset = rng.uniform(np.pi / 9, 17 * np.pi / 9, size=n) * np.where(rng.random(size=n) < 0.5, 1.0, -1.0)
            return {"direction_1": rng.uniform(0.0, TWO_PI, size=n), "match": rng.integers(0, 2, size=n),
                    "offset": offset, "modality_1": rng.integers(1, 3, size=n),
                    "modality_2": rng.integers(1, 3, size=n)}
        # compare: the second stimulus 90 to 270 degrees from the first, either way.
        separation = rng.uniform(np.pi / 2, 3 * np.pi / 2, size=n) * np.where(rng.random(size=n) < 0.5, 1.0, -1.0)
        params = {"direction_1": rng.uniform(0.0, TWO_PI, size=n), "separation": separation}
        first, second = self._strengths(n, rng)
        zeros = np.zeros(n)
        if spec.modalities == "1":
            s11, s21, s12, s22 = first, second, zeros, zeros
        elif spec.modalities == "2":
            s11, s21, s12, s22 = zeros, zeros, first, second
        elif spec.modalities in ("ctx1", "ctx2"):
            s11, s21 = first, second
            s12, s22 = self._strengths(n, rng)
        else:   # both: each stimulus's strength split unevenly between the modalities
            split_1 = first * rng.uniform(0.2, 0.8, size=n) * np.where(rng.random(size=n) < 0.5, 1.0, -1.0)
            split_2 = second * rng.uniform(0.2, 0.8, size=n) * np.where(rng.random(size=n) < 0.5, 1.0, -1.0)
            s11, s12 = first + split_1 / 2, first - split_1 / 2
            s21, s22 = second + split_2 / 2, second - split_2 / 2
        params.update(strength_1_mod1=s11, strength_2_mod1=s21, strength_1_mod2=s12, strength_2_mod2=s22)
        return params

    def _strengths(self, n: int, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
        """Two stimuli's strengths: mean uniform on [0.8, 1.2], +- a coherence (Yang's contextdm_genstim)."""
        mean = rng.uniform(*MEAN_STRENGTH, size=n)
        coherence = self.coherences[rng.integers(0, len(self.coherences), size=n)]
        sign = np.where(rng.random(size=n) < 0.5, 1.0, -1.0)
        return mean + coherence * sign, mean - coherence * sign

    def param_domains(self) -> dict[str, Domain]:
        spec, domains = self.spec, super().param_domains()
        domains["direction_1"] = _DIRECTION
        if spec.stimuli == "single":
            domains["modality_1"] = _MODALITY
        elif spec.stimuli == "match":
            domains.update(modality_1=_MODALITY, modality_2=_MODALITY)
            if spec.category:
                domains["direction_2"] = _DIRECTION
            else:
                domains["match"] = Values((0, 1), what="1: the test matches the sample")
                domains["offset"] = Reals(-TWO_PI, TWO_PI, what="radians from the sample to a non-matching test")
        else:
            domains["separation"] = Reals(-TWO_PI, TWO_PI, what="radians from stimulus 1 to stimulus 2")
            for name in ("strength_1_mod1", "strength_2_mod1", "strength_1_mod2", "strength_2_mod2"):
                domains[name] = _STRENGTH
        return domains

    def derive_params(self, params):
        spec, params = self.spec, dict(params)
        n = len(params["direction_1"])
        if spec.stimuli == "single":
            go = np.ones(n, dtype=bool)
            response = (params["direction_1"] + (np.pi if spec.anti else 0.0)) % TWO_PI
        elif spec.stimuli == "compare":
            params["direction_2"] = (params["direction_1"] + params["separation"]) % TWO_PI
            if spec.modalities in ("1", "ctx1"):
                first, second = params["strength_1_mod1"], params["strength_2_mod1"]
            elif spec.modalities in ("2", "ctx2"):
                first, second = params["strength_1_mod2"], params["strength_2_mod2"]
            else:
                first = params["strength_1_mod1"] + params["strength_1_mod2"]
                second = params["strength_2_mod1"] + params["strength_2_mod2"]
            go = np.ones(n, dtype=bool)
            response = np.where(first > second, params["direction_1"], params["direction_2"])
        else:
            if spec.category:
                params["match"] = ((params["direction_1"] < np.pi) == (params["direction_2"] < np.pi)).astype(np.int64)
            else:
                params["direction_2"] = (params["direction_1"] + params["offset"] * (1 - params["match"])) % TWO_PI
            go = (params["match"] == 1) == spec.go_on_match
            response = np.where(go, params["direction_2"], np.nan)
        params["go"] = go
        params["response_direction"] = response
        params["ground_truth"] = np.where(go, nearest_unit(np.nan_to_num(response)), -1).astype(np.int64)
        return params

    # ------------------------------------------------------------------ arrays
    def fill(self, tr: Trials) -> None:
        p, n = tr.params, tr.n
        periods = LAYOUTS[self.spec.layout].periods
        directions = np.stack([p["direction_1"], p.get("direction_2", p["direction_1"])], axis=1)    # (B, 2)
        strengths = self._stimulus_strengths(p, n)                                                    # (B, 2, 2)
        bumps = ring_bump(directions)                                                                 # (B, 2, K)
        # (B, period, modality, K): each period shows the stimuli its layout names.
        rings = np.einsum("qs,bsm,bsk->bqmk", self._shown, strengths, bumps, dtype=np.float32)
        table = tr.period_table(len(INPUT_NAMES))
        table[:, :, 0] = self._fixation_input
        table[:, :, 1:1 + 2 * N_RING] = rings.reshape(n, len(periods) + 1, 2 * N_RING)
        table[:, :-1, self._rule_channel] = 1.0
        tr.lay_out(table, tr.table_rows, tr.inputs)

        go = p["go"]
        targets = tr.period_table(len(OUTPUT_NAMES))
        targets[:] = TARGET_LOW
        targets[:, :-2, 0] = TARGET_FIXATE                       # every period before go
        targets[:, -2, 0] = np.where(go, TARGET_LOW, TARGET_FIXATE)
        targets[:, -2, 1:] += ring_bump(np.nan_to_num(p["response_direction"])) * go[:, None]
        tr.lay_out(targets, tr.table_rows, tr.targets)
        tr.per_period({"go": np.where(go, p["ground_truth"] + 1, 0)}, out=tr.gt)
        self._write_mask(tr)

    def _stimulus_strengths(self, p: Mapping[str, np.ndarray], n: int) -> np.ndarray:
        """(B, stimulus, modality) strength of each stimulus on each modality's ring."""
        out = np.zeros((n, 2, 2), dtype=np.float32)
        if self.spec.stimuli == "compare":
            for s in (1, 2):
                for m in (1, 2):
                    out[:, s - 1, m - 1] = p[f"strength_{s}_mod{m}"]
            return out
        for s in (1, 2):
            if f"modality_{s}" in p:
                out[np.arange(n), s - 1, p[f"modality_{s}"] - 1] = 1.0
        return out

    def _write_mask(self, tr: Trials) -> None:
        """1 from 100 ms after the trial's start to the go cue and from 100 ms after the go cue to
        the end (Yang's cost mask, without its weights: see ``yang19_loss_weights``)."""
        go_onset, length = tr.onset("go"), tr.lengths
        ignored = np.minimum(self._ignored, go_onset)
        grace = np.minimum(self._grace, length - go_onset)
        counts = np.stack([ignored, go_onset - ignored, grace, length - go_onset - grace, tr.n_steps - length], axis=1)
        table = np.zeros((tr.n, 5, len(OUTPUT_NAMES)), dtype=np.float32)
        table[:, [1, 3]] = 1.0
        tr.lay_out(table, tr.runs(counts, np.arange(5), 5), tr.mask)


def _docstring(spec: Yang19Spec) -> str:
    layout = LAYOUTS[spec.layout]
    shown_2 = f", stimulus 2 during {', '.join(layout.stimulus_2)}" if layout.stimulus_2 else ""
    timing = "; ".join(f"{p} {_describe(d)}" for p, d in layout.durations.items())
    stim = {
        "single": "one stimulus (strength 1) at a direction uniform on the circle, on modality 1 or 2 (`modality_1`)",
        "compare": (f"two stimuli {90}-{270} degrees apart (`direction_1`, `separation`); strengths: mean uniform "
                    f"on [0.8, 1.2] +- a coherence of {', '.join(f'{c:g}' for c in spec.coherences)}"),
        "match": ("a sample and a test stimulus, each on modality 1 or 2; " + (
            "directions among 0.1 pi, 0.3 pi, ..., 1.9 pi; they match when both are below pi or both above"
            if spec.category else "the test at the sample's direction (`match` 1) or 20-340 degrees away")),
    }[spec.stimuli]
    answer = ("keep fixating unless the test " + ("matches" if spec.go_on_match else "does not match")
              + "; then saccade to it") if spec.stimuli == "match" else (
        "saccade opposite the stimulus" if spec.anti else "saccade to the " +
        ("stimulus" if spec.stimuli == "single" else "stronger stimulus"))
    return f"""{spec.name}: {spec.description}

    ## Description
    Task "{spec.name}" of Yang et al. (2019), Fig. 1 (`{spec.key}` in their code). {stim.capitalize()}.
    The network must {answer} in the go period, and fixate before.

    ## Inputs
    | channel | value |
    |---|---|
    | `fixation` | 1 during {', '.join(layout.fixation_input)}, else 0 |
    | `mod1_dir00` ... `mod1_dir31` | the ring code of the stimuli on modality 1 while shown |
    | `mod2_dir00` ... `mod2_dir31` | the same for modality 2 |
    | `rule_{spec.rule}` | 1 for the whole trial (the other 19 rule inputs stay 0) |

    Stimulus 1 is shown during {', '.join(layout.stimulus_1)}{shown_2}. Ring unit k (preferred direction
    2 pi k / 32) gets 0.8 s exp(-d^2 / 2 (pi/8)^2) from a stimulus of strength s at circular distance d.
    Every input carries white noise (sigma 0.01 at tau_in 100 ms: per-step sd sqrt(2 tau_in / dt) sigma);
    inputs are neither offset nor rectified.

    ## Outputs and actions
    `fixation`: 0.8 while the network must fixate, else 0.05; `dir00` ... `dir31`: 0.05, plus
    0.8 exp(-d^2 / 2 (pi/8)^2) around the response direction in the go period. The mask is 1 except
    in the first 100 ms and the first 100 ms of the go period (Yang's cost mask; its weights are
    `neurotasks.tasks.yang19_ring.yang19_loss_weights`). Actions: `Discrete(33)`: 0 fixate, k + 1
    saccade to direction 2 pi k / 32.

    ## Periods
    {timing}.

    ## Rewards
    Saccading before the go period aborts (-0.1); the first saccade in it ends the trial: +1 if
    within 36 degrees of the response direction (and the trial asks for one), else 0. Keeping
    fixation to the end earns +1 on trials that ask for it, else 0.

    ## Criterion
    Yang's performance: at the last step, fixation output > 0.5 where the network must fixate, or
    < 0.5 with the population vector of the ring outputs within 36 degrees (pi/5) of the response
    direction. Mean percent correct of the last 5 validations > 90 % (the threshold is ours).

    ## Arguments
    `dt` (20 ms), `timing` (period name -> duration in ms, overriding the defaults above),
    {'`coherences`, ' if spec.stimuli == 'compare' else ''}`catch_prob` (0; the paper has no catch trials),
    `catch_duration` (1000), `input_noise` (0.01), `tau_in` (100).

    Every task also takes `max_trial_steps` (10,000) and `max_batch_bytes` (4 GiB), the limits the
    base class checks (see `neurotasks.Task`).

    ## Reference
    Yang, Joglekar, Song, Newsome & Wang (2019) Nat Neurosci 22: 297-306, Fig. 1 and Methods;
    github.com/gyyang/multitask (task.py).

    ## Version history
    v0: first version.
    """


def _describe(duration: Duration) -> str:
    if isinstance(duration, Constant):
        return f"{duration.value:g} ms"
    if isinstance(duration, Uniform):
        return f"uniform on [{duration.low:g}, {duration.high:g}) ms"
    if isinstance(duration, Choice):
        return "one of " + ", ".join(f"{v:g}" for v in duration.values) + " ms"
    return repr(duration)


def _derived_params(spec: Yang19Spec) -> dict[str, str]:
    """What a task computes rather than draws, each with what to force instead."""
    derived = {"ground_truth": "it is the ring unit nearest the response direction; force the stimuli",
               "response_direction": "it follows from the stimuli; force them",
               "go": "it follows from the stimuli; force them"}
    if spec.stimuli == "compare":
        derived["direction_2"] = "it is direction_1 + separation; force those"
    elif spec.stimuli == "match" and spec.category:
        derived["match"] = "it is whether both directions lie in the same half ring; force the directions"
    elif spec.stimuli == "match":
        derived["direction_2"] = "it is direction_1 (match) or direction_1 + offset; force those"
    return derived


def _make_class(spec: Yang19Spec) -> type[Yang19Task]:
    name = f"Yang19{spec.rule}"
    cls = type(name, (Yang19Task,), {
        "__module__": __name__, "__qualname__": name, "__doc__": _docstring(spec), "spec": spec,
        "id": f"{name}-v0", "summary": f"{spec.name}: {spec.description} (Yang et al. 2019)",
        "tags": spec.tags, "derived_params": _derived_params(spec),
        "reference": "Yang et al. 2019 (Fig. 1)", "period_names": LAYOUTS[spec.layout].periods})
    return cls


#: The 20 task classes, in the paper's order (that of the rule inputs).
TASKS: tuple[type[Yang19Task], ...] = tuple(_make_class(spec) for spec in SPECS)
globals().update({cls.__name__: cls for cls in TASKS})
#: Their Gymnasium ids, in the paper's order.
TASK_IDS: tuple[str, ...] = tuple(cls.id for cls in TASKS)

#: Yang et al.'s training mix: Ctx DM 1 and Ctx DM 2 five times as often as each other task
#: (``rule_prob_map`` in their experiment.py), in the order of ``TASK_IDS``.
YANG19_PROPORTIONS: tuple[float, ...] = tuple(5.0 if s.key in ("contextdm1", "contextdm2") else 1.0 for s in SPECS)


def yang19_mixture(proportions: Sequence[float] | None = YANG19_PROPORTIONS, **task_kwargs: Any) -> TaskMixture:
    """The 20 tasks as one ``TaskMixture`` (their own rule inputs, none added), mixed in
    ``proportions`` (Yang's by default; None: equally); ``task_kwargs`` (``dt``...) go to every task."""
    return TaskMixture(TASK_IDS, proportions, rule_inputs=False, **task_kwargs)
