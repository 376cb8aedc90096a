"""Training recipes.

``pycog``: the paper's protocol (Song, Yang & Wang 2016, Table 1): plain minibatch SGD, learning
rate 0.01, 20 trials per update, gradient norm clipped at 1, vanishing-gradient regulariser
λ_Ω = 2, validation every 10⁴ trials.

``fast`` (the default): the same objective and constraints, trained with Adam on larger batches
and validated often, which reaches the same criteria in a fraction of the wall time on a CPU.
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


def preset(name: str) -> TrainerSettings:
    """The settings of a named preset."""
    try:
        return PRESETS[name]
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(sorted(PRESETS))}") from None
