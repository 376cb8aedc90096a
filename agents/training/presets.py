"""Training recipes.

``pycog``: the paper's protocol (Song, Yang & Wang 2016, Table 1): plain minibatch SGD, learning
rate 0.01, 20 trials per update, gradient norm clipped at 1, vanishing-gradient regulariser
λ_Ω = 2, validation every 10⁴ trials.

``fast`` (the default): the same objective and constraints, trained with Adam on larger batches
and validated often, which reaches the same criteria in a fraction of the wall time on a CPU.

Both are written for the E/I network (``eirnn``). What a preset changes for another model of the zoo is in
:data:`MODEL_SETTINGS`, in the open, and ``preset(name, model)`` applies it:

- every model without the leaky rate recurrence (``gru``, ``lstm``) trains without Ω (``lambda_omega`` 0:
  the regulariser is defined on that recurrence's δ_t), and every model but eirnn without pruning
  (``prune_w_min`` 0: only the E/I network prunes, as the paper did);
- learning rates: MODEL_SETTINGS_NOTES says, per model, what was measured to choose them.
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
}


def preset(name: str, model: str = "eirnn") -> TrainerSettings:
    """The settings of a named preset for ``model`` (a registry name; :data:`MODEL_SETTINGS`)."""
    try:
        base = PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(sorted(PRESETS))}") from None
    return base.updated(**MODEL_SETTINGS.get(name, {}).get(model, {}))
