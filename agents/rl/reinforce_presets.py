"""The default hyperparameters of reward-trained E/I networks, each with its source.

Sources: Song, Yang & Wang (2017), eLife 6:e21492 ("the paper"), and its code, pyrl
(github.com/frsong/pyrl: ``pyrl/configs.py`` the defaults, ``pyrl/sgd.py`` Adam and clipping,
``pyrl/policygradient.py`` the update, ``examples/models/*.py`` the tasks).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

#: name -> (default, source)
DEFAULTS: dict[str, tuple[Any, str]] = {
    "trials_per_update": (64, "pyrl's n_gradient is the task's number of conditions (10 for its rdm_fixed, 72 for "
                              "mante); a larger batch of trials per update (the brief allows it) trades trials "
                              "for fewer, less noisy updates and keeps two cores busy"),
    "learning_rate": (0.004, "pyrl configs.py 'lr' (Adam)"),
    "baseline_learning_rate": (0.004, "pyrl configs.py 'baseline_lr' (Adam)"),
    "max_grad_norm": (1.0, "pyrl sgd.py Adam.get_updates(max_norm=1): the gradient's global norm clipped to 1"),
    "adam_betas": ([0.9, 0.999], "pyrl sgd.py (beta1, beta2)"),
    "adam_eps": (1e-8, "pyrl sgd.py epsilon"),
    "tau": (100.0, "pyrl configs.py 'tau' (ms), the policy network's time constant"),
    "sigma_rec": (0.1, "pyrl configs.py 'var_rec' = 0.01, σ_rec = sqrt(0.01)"),
    "tau_reward": (math.inf, "pyrl configs.py 'tau_reward' = inf: rewards are not discounted"),
    "abort_reward": (-1.0, "pyrl R_ABORTED = -1 (every example task), the reward for breaking fixation"),
    "correct_reward": (1.0, "pyrl R_CORRECT = +1"),
    "miss_reward": (-1.0, "pyrl abort_on_last_t = True with R_TERMINAL = None, i.e. R_ABORTED: a trial that ends "
                          "without a response earns the abort reward (else always fixating earns 0, a local "
                          "optimum where the policy stops responding)"),
    "catch_reward": (0.0, "pyrl's tasks have no catch trials; a catch trial (no response window) held to its end "
                          "earns 0, pyrl's reward of a step that is neither aborted nor answered, so holding beats "
                          "breaking fixation (-1). With the miss reward there (-1 either way) catch trials taught "
                          "nothing and a trained PerceptualDecision-v0 policy held 0 % of them"),
    "l2_rates": (0.002, "pyrl simple.py 'L2_r' = 0.002, the rate penalty of its ReLU rate network (its GRU has 0): "
                        "without it the E/I network's activity ran away (rates > 1e18) within 100 updates on "
                        "PerceptualDecision-v0 at learning rates 0.004 and 0.001"),
    "input_weight_scale": (10.0, "the E/I network's initial input weights, 0.1 U(0, 1) (pycog), times this: "
                                  "U(0, 1), of the order of pyrl's (simple.py draws N(0, 1) input weights, gru.py "
                                  "scales them by 'Win' = 1). With pycog's scale the untrained network's rates at "
                                  "the decision onset of PerceptualDecision-v0 held no decodable evidence (53 % by a "
                                  "linear decoder, 52 % at 51.2 % coherence; 80 % and 100 % at 10x), and REINFORCE "
                                  "has only the reward to grow them"),
    "baseline_units": (100, "pyrl configs.py 'baseline_N'"),
    "baseline_initial_value": (None, "pyrl 'baseline_bout' = None, i.e. R_ABORTED: the baseline's readout bias "
                                     "starts at the abort reward (None here: abort_reward)"),
    "positivity": ("abs", "measured here (the E/I network's option, Song, Yang & Wang 2016 use [.]_+): with "
                          "'rectify' the policy gradient drove the choice readout weights below 0, where [.]_+ "
                          "stops their gradient for good (after 76,800 trials on PerceptualDecision-v0, 13 and 17 "
                          "of the 80 excitatory readout weights of choice 1 and 2 were left; the policy timed its "
                          "response but chose at chance, 48 % correct); with |.| (signs and masks unchanged) the "
                          "same run met the task's criterion after 153,600 trials"),
    "train_bias": (True, "pyrl trains the policy's output bias (its GRU's 'bout' is trainable unless in 'fix'); "
                         "with Dale's non-negative readout it sets the actions' prior"),
    "initial_hold": (0.5, "not in pyrl (None: its uniform initial policy). The probability that the untrained "
                          "policy holds fixation through a trial's mean number of steps before the response "
                          "window, set by the fixate action's output bias. From a uniform softmax over 3 actions "
                          "the chance of holding 25 steps is 3^-25: every trial aborts, every return equals the "
                          "baseline, and REINFORCE's gradient is exactly 0. The analogue of the fixation training "
                          "animals get before the task"),
    "initial_action_sd": (None, "Box actions only (a Gaussian readout, agents.rl.reinforce_readout; not in pyrl, "
                                "whose actions are discrete): the Gaussian's starting sd, the same on every action "
                                "dimension. None: for a task whose rule aborts a trial that strays beyond a "
                                "tolerance during hold periods (DelayedReach-v0, SequenceExecution-v0), the sd at "
                                "which a policy whose mean is on the hold target stays within it through the hold "
                                "periods' mean number of steps with probability initial_hold (DelayedReach-v0: "
                                "0.07 for tolerance 0.2); otherwise a tenth of the Box's half-width (Williams 1992 "
                                "leaves σ's start open)"),
    "box_readout_scale": (0.01, "Box actions only: the untrained network's readout weights times this, so that its "
                                "mean action stays near the hold target that the output bias sets (the analogue of "
                                "initial_hold). Measured on DelayedReach-v0 (64 trials of the untrained default "
                                "policy, its sd from initial_action_sd): 6 %, 14 % and 23 % of trials held through "
                                "the target and delay periods at 0.1, 0.03 and 0.01"),
    "error_scale": (None, "Box actions only: the tracking rule's reward per step is -error_scale x the step's mean "
                          "squared error (neurotasks.rules.TrackingRule). None: 1 / the task's mean trial length "
                          "in steps, so a completed trial's return is about minus its mean squared error. The "
                          "rule's default 1 sums the error over the steps: at the criterion's RMSE 0.1 a "
                          "DelayedReach-v0 trial (170 steps) would cost -1.7, more than breaking fixation at "
                          "once (abort_reward -1), and REINFORCE would learn to abort"),
    "validate_every": (20, "updates between validations (pyrl validates every checkfreq = 50 updates of 10 trials, "
                           "i.e. every 500 trials; here every 20 x 64 = 1280)"),
}

#: hyperparameters of the policy network (the rest of its config comes from the task's suggested network)
NETWORK_KEYS = ("tau", "sigma_rec", "positivity", "train_bias")


def resolve(overrides: Mapping[str, Any] | None) -> dict[str, Any]:
    """The defaults with ``overrides``; ValueError naming an unknown or ill-typed hyperparameter."""
    hp = {k: v for k, (v, _) in DEFAULTS.items()}
    for key, value in dict(overrides or {}).items():
        if key == "policy":
            if not isinstance(value, Mapping):
                raise ValueError(f"hyperparameter policy must be a dict of E/I network arguments, got {value!r}")
            hp[key] = dict(value)
            continue
        if key not in DEFAULTS:
            raise ValueError(f"unknown hyperparameter {key!r} for ei-reinforce; known: policy (E/I network "
                             f"arguments), {', '.join(sorted(DEFAULTS))}")
        hp[key] = value
    for key in ("trials_per_update", "baseline_units", "validate_every"):
        v = hp[key]
        if isinstance(v, bool) or not isinstance(v, int) or v < 1:
            raise ValueError(f"hyperparameter {key} must be a positive int, got {v!r}")
    for key in ("learning_rate", "baseline_learning_rate", "max_grad_norm", "adam_eps", "tau", "tau_reward",
                "input_weight_scale"):
        v = hp[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not v > 0 or math.isnan(v):
            raise ValueError(f"hyperparameter {key} must be a number > 0, got {v!r}")
    for key in ("sigma_rec", "l2_rates", "box_readout_scale"):
        v = hp[key]
        if isinstance(v, bool) or not isinstance(v, (int, float)) or not (math.isfinite(v) and v >= 0):
            raise ValueError(f"hyperparameter {key} must be a finite number >= 0, got {v!r}")
    if hp["positivity"] not in ("rectify", "abs"):
        raise ValueError(f"hyperparameter positivity must be 'rectify' or 'abs', got {hp['positivity']!r}")
    for key in ("abort_reward", "correct_reward", "miss_reward", "catch_reward"):
        if isinstance(hp[key], bool) or not isinstance(hp[key], (int, float)) or not math.isfinite(hp[key]):
            raise ValueError(f"hyperparameter {key} must be a finite number, got {hp[key]!r}")
    betas = hp["adam_betas"]
    if not (isinstance(betas, (list, tuple)) and len(betas) == 2 and all(isinstance(b, (int, float)) and 0 <= b < 1
                                                                          for b in betas)):
        raise ValueError(f"hyperparameter adam_betas must be two numbers in [0, 1), got {betas!r}")
    hp["adam_betas"] = [float(b) for b in betas]
    if hp["baseline_initial_value"] is None:
        hp["baseline_initial_value"] = float(hp["abort_reward"])
    sd = hp["initial_action_sd"]
    if sd is not None and (isinstance(sd, bool) or not isinstance(sd, (int, float)) or not (math.isfinite(sd)
                                                                                          and sd > 0)):
        raise ValueError(f"hyperparameter initial_action_sd must be a finite number > 0 or None, got {sd!r}")
    scale = hp["error_scale"]
    if scale is not None and (isinstance(scale, bool) or not isinstance(scale, (int, float))
                              or not (math.isfinite(scale) and scale > 0)):
        raise ValueError(f"hyperparameter error_scale must be a finite number > 0 or None, got {scale!r}")
    hold = hp["initial_hold"]
    if hold is not None and (isinstance(hold, bool) or not isinstance(hold, (int, float)) or not 0 < hold < 1):
        raise ValueError(f"hyperparameter initial_hold must be a probability in (0, 1) or None, got {hold!r}")
    hp.setdefault("policy", {})
    return hp
