"""Training recipes.

``pycog``: the paper's protocol (Song, Yang & Wang 2016, Table 1): plain minibatch SGD, learning
rate 0.01, 20 trials per update, gradient norm clipped at 1, vanishing-gradient regulariser
λ_Ω = 2, validation every 10⁴ trials.

``fast`` (the default): the same objective and constraints, trained with Adam on larger batches
and validated often, which reaches the same criteria in a fraction of the wall time on a CPU.

``continuous``: the paper's protocol for its sequence task (pycog ``examples/models/lee.py``,
``mode = 'continuous'``): the network is never reset. Each update trains on one trial
(pycog ``trainer.py``: "In continuous mode, so we're setting n_gradient to 1") that starts from the
state where the previous update's trial ended, so the initial state is not trained (pycog: "In
continuous mode it doesn't make sense to train x0, which is forgotten"), and validation starts from
that carried state too. The tasks it suits have an unconstrained inter-trial interval (SequenceExecution's
``iti``), in which the network returns to a state from which it can start the next trial. Otherwise the
pycog preset: SGD, learning rate 0.01, clipping at 1, Ω with λ_Ω = 2.

Both are written for the E/I network (``eirnn``), whose numbers they keep. What a preset changes for another
model of the zoo is written here, in the open, and ``preset(name, model, n_units)`` applies it:

- :data:`MODEL_SETTINGS`: every model without the leaky rate recurrence (``gru``, ``lstm``) trains without
  Ω (``lambda_omega`` 0: the regulariser is defined on that recurrence's δ_t), and every model but eirnn
  without pruning (``prune_w_min`` 0: only the E/I network prunes, as the paper did);
- :func:`adam_learning_rate`: the models with a dense, unconstrained recurrent matrix (``rnn``, ``gru``,
  ``lstm``: :data:`DENSE_RECURRENT`) take Adam's learning rate 0.01 up to N = 100 units and 0.001 above, the
  rate Yang et al. (2019) trained their 256-unit networks with. Adam moves every weight by about the learning
  rate at its first steps, whatever the gradient's scale, so a coherent step moves a dense N × N matrix's gain
  by up to lr · N, and a ReLU network's activity explodes once its gain passes 1. Measured on
  ParametricWorkingMemory-v0 (seed 0; its 212-unit dense size, :func:`agents.training.trainer.dense_units`):
  ``rnn`` at 0.0047 (the earlier rule, 0.01 · 100 / N) diverged within 20 updates (loss 2e15), at 0.0022 it
  stayed at 70 % correct for 940 updates and then diverged, at 0.001 it met the criterion after 60 updates; at
  500 units 0.01 diverged in two updates and 0.001 learned. The E/I network (rectified, Dale-signed weights) and
  ``lowrank`` (W = m nᵀ / N, whose step in W is of order lr whatever N) keep 0.01. At the paper's 100-unit
  PerceptualDecision-v0 every model has 0.01.

A ``settings`` override (``agents.train(..., settings={"learning_rate": ...})``) wins over both.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, fields, replace
from typing import Any


@dataclass(frozen=True)
class TrainerSettings:
    """Every knob of the trainer (saved in config.json)."""

    optimizer: str = "adam"                 #: "sgd" or "adam"
    learning_rate: float = 0.01
    batch_size: int = 20                    #: trials per update
    grad_clip: float = 1.0                  #: max gradient norm (0: no clipping)
    lambda_omega: float = 2.0               #: weight of the vanishing-gradient regulariser Ω
    l1_weights: float = 0.0
    l2_weights: float = 0.0
    l2_rates: float = 0.0
    validation_every: int = 10_000          #: trials between validations
    validation_trials: int = 500            #: about this many grid trials per validation
    validation_noise: bool = True           #: validate the noisy network (as pycog does)
    lr_shrink: float = 0.5                  #: learning-rate factor after a non-finite gradient
    max_bad_updates: int = 10               #: consecutive non-finite gradients before giving up
    prune_w_min: float = 1e-4               #: prune weights below this after training
    adam_betas: tuple[float, float] = (0.9, 0.999)
    #: start each update's trial from the state where the previous one ended (the ``continuous`` preset)
    carry_state: bool = False

    def __post_init__(self) -> None:
        if self.optimizer not in ("sgd", "adam"):
            raise ValueError(f"optimizer must be 'sgd' or 'adam', got {self.optimizer!r}")
        for name in ("learning_rate", "lr_shrink"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be > 0, got {getattr(self, name)!r}")
        for name in ("batch_size", "validation_every", "validation_trials", "max_bad_updates"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}")
        for name in ("grad_clip", "lambda_omega", "l1_weights", "l2_weights", "l2_rates", "prune_w_min"):
            if not getattr(self, name) >= 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)!r}")
        if not isinstance(self.carry_state, bool):
            raise ValueError(f"carry_state must be true or false, got {self.carry_state!r}")
        if self.carry_state and self.batch_size != 1:
            raise ValueError(f"carry_state (the continuous protocol) trains one trial per update: batch_size must be "
                             f"1, got {self.batch_size}")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["adam_betas"] = list(self.adam_betas)
        return data

    def updated(self, **overrides: Any) -> TrainerSettings:
        """A copy with some settings changed; unknown names raise a ValueError listing the valid ones."""
        valid = {f.name for f in fields(self)}
        unknown = sorted(set(overrides) - valid)
        if unknown:
            raise ValueError(f"unknown trainer setting(s) {unknown}; valid: {sorted(valid)}")
        if "adam_betas" in overrides:
            overrides["adam_betas"] = tuple(overrides["adam_betas"])
        return replace(self, **overrides)


PRESETS: dict[str, TrainerSettings] = {
    "pycog": TrainerSettings(optimizer="sgd", learning_rate=0.01, batch_size=20, grad_clip=1.0, lambda_omega=2.0,
                             validation_every=10_000, validation_trials=500),
    "fast": TrainerSettings(optimizer="adam", learning_rate=0.01, batch_size=64, grad_clip=1.0, lambda_omega=2.0,
                            validation_every=1_280, validation_trials=300),
    "continuous": TrainerSettings(optimizer="sgd", learning_rate=0.01, batch_size=1, grad_clip=1.0,
                                  lambda_omega=2.0, validation_every=1_000, validation_trials=300, carry_state=True),
}

DEFAULT_PRESET = "fast"

#: settings that are not the model's to have: no Ω without the leaky rate recurrence, no pruning but eirnn's
_NO_OMEGA, _NO_PRUNING = {"lambda_omega": 0.0}, {"prune_w_min": 0.0}
#: preset -> model -> what the preset changes for that model (a model not listed takes the preset as it is)
MODEL_SETTINGS: dict[str, dict[str, dict[str, Any]]] = {
    "fast": {
        "rnn": {**_NO_PRUNING},
        "lowrank": {**_NO_PRUNING},
        "gru": {**_NO_OMEGA, **_NO_PRUNING},
        "lstm": {**_NO_OMEGA, **_NO_PRUNING},
    },
    "pycog": {
        "rnn": {**_NO_PRUNING},
        "lowrank": {**_NO_PRUNING},
        "gru": {**_NO_OMEGA, **_NO_PRUNING},
        "lstm": {**_NO_OMEGA, **_NO_PRUNING},
    },
    "continuous": {
        "rnn": {**_NO_PRUNING},
        "lowrank": {**_NO_PRUNING},
    },
}


#: models whose recurrent matrix is dense and unconstrained: Adam's learning rate shrinks with N above 100 units
DENSE_RECURRENT = ("rnn", "gru", "lstm")
#: the network size up to which those models take the preset's learning rate as it is
REFERENCE_UNITS = 100
#: Adam's learning rate for those models above that size (Yang et al. 2019, 256 units)
LARGE_DENSE_LEARNING_RATE = 0.001


def adam_learning_rate(learning_rate: float, model: str, n_units: int | None) -> float:
    """``learning_rate`` up to 100 units, :data:`LARGE_DENSE_LEARNING_RATE` above, for the models of
    :data:`DENSE_RECURRENT` (see the module docstring); ``learning_rate`` for the others or when N is not known."""
    if model not in DENSE_RECURRENT or n_units is None or n_units <= REFERENCE_UNITS:
        return learning_rate
    return min(learning_rate, LARGE_DENSE_LEARNING_RATE)


def preset(name: str, model: str = "eirnn", n_units: int | None = None) -> TrainerSettings:
    """The settings of a named preset for ``model`` (a registry name) of ``n_units`` units: the preset, what
    :data:`MODEL_SETTINGS` changes for the model, and with Adam :func:`adam_learning_rate`."""
    try:
        base = PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(sorted(PRESETS))}") from None
    settings = base.updated(**MODEL_SETTINGS.get(name, {}).get(model, {}))
    if settings.optimizer == "adam":
        settings = settings.updated(learning_rate=adam_learning_rate(settings.learning_rate, model, n_units))
    return settings
