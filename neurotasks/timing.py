"""Duration distributions for trial periods, in milliseconds.

Every period of a task has a duration drawn per trial from one of these. They sample whole
arrays at once (no Python loop over trials) and know their bounds, so tasks can validate their
arguments when they are made and tests can check the statistics.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


class Duration:
    """A distribution of durations in ms."""

    min: float
    max: float

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        raise NotImplementedError

    @property
    def mean(self) -> float:
        raise NotImplementedError

    @property
    def lowest_positive(self) -> float | None:
        """The shortest positive duration it can take, or None when it has no positive value or
        takes positive values arbitrarily close to 0 (a continuous distribution from 0).

        Validation uses it: a period must not get a positive duration that rounds to 0 steps.
        """
        return self.min if self.min > 0 else None


@dataclass(frozen=True)
class Constant(Duration):
    """Always ``value`` ms."""

    value: float

    def __post_init__(self) -> None:
        _check_nonnegative(self.value, "value")

    @property
    def min(self) -> float:  # type: ignore[override]
        return float(self.value)

    @property
    def max(self) -> float:  # type: ignore[override]
        return float(self.value)

    @property
    def mean(self) -> float:
        return float(self.value)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return np.full(n, float(self.value))


@dataclass(frozen=True)
class Uniform(Duration):
    """Uniform on ``[low, high)`` ms."""

    low: float
    high: float

    def __post_init__(self) -> None:
        _check_nonnegative(self.low, "low")
        if not self.high >= self.low:
            raise ValueError(f"Uniform duration needs high >= low, got low={self.low}, high={self.high}")

    @property
    def min(self) -> float:  # type: ignore[override]
        return float(self.low)

    @property
    def max(self) -> float:  # type: ignore[override]
        return float(self.high)

    @property
    def mean(self) -> float:
        return 0.5 * (self.low + self.high)

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.uniform(self.low, self.high, size=n)


@dataclass(frozen=True)
class Choice(Duration):
    """One of ``values`` ms, with probabilities ``p`` (uniform by default)."""

    values: tuple[float, ...]
    p: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "values", tuple(float(v) for v in self.values))
        if len(self.values) == 0:
            raise ValueError("Choice duration needs at least one value")
        for v in self.values:
            _check_nonnegative(v, "values")
        if self.p is not None:
            p = np.asarray(self.p, dtype=float)
            if p.shape != (len(self.values),) or np.any(p < 0) or not np.isclose(p.sum(), 1.0):
                raise ValueError(f"Choice duration probabilities p must be {len(self.values)} "
                                 f"non-negative numbers summing to 1, got {self.p}")
            object.__setattr__(self, "p", tuple(float(x) for x in p))

    @property
    def min(self) -> float:  # type: ignore[override]
        return min(self.values)

    @property
    def max(self) -> float:  # type: ignore[override]
        return max(self.values)

    @property
    def mean(self) -> float:
        return float(np.average(self.values, weights=self.p))

    @property
    def lowest_positive(self) -> float | None:
        positive = [v for v in self.values if v > 0]
        return min(positive) if positive else None

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        return rng.choice(np.asarray(self.values), size=n, p=self.p)


@dataclass(frozen=True)
class TruncatedExponential(Duration):
    """Exponential with scale ``mean``, conditioned on ``[min, max)`` (pycog's convention).

    Sampled by inverting the truncated CDF, so it costs one uniform draw per trial instead of
    pycog's rejection loop. By memorylessness this is ``min`` plus an exponential of scale
    ``mean`` truncated to ``max - min``.
    """

    scale: float
    low: float = 0.0
    high: float = math.inf

    def __post_init__(self) -> None:
        if not (isinstance(self.scale, (int, float, np.integer, np.floating)) and 0 < self.scale < math.inf):
            raise ValueError(f"TruncatedExponential needs a finite mean > 0, got {self.scale!r}")
        _check_nonnegative(self.low, "min")
        if not self.high > self.low:
            raise ValueError(f"TruncatedExponential needs max > min, got min={self.low}, max={self.high}")

    @property
    def min(self) -> float:  # type: ignore[override]
        return float(self.low)

    @property
    def max(self) -> float:  # type: ignore[override]
        return float(self.high)

    @property
    def mean(self) -> float:
        """Mean of the truncated distribution (not the scale)."""
        width = self.high - self.low
        if math.isinf(width):
            return self.low + self.scale
        z = width / self.scale
        return self.low + self.scale - width * math.exp(-z) / (-math.expm1(-z))

    def sample(self, n: int, rng: np.random.Generator) -> np.ndarray:
        u = rng.random(n)
        width = self.high - self.low
        mass = 1.0 if math.isinf(width) else -math.expm1(-width / self.scale)
        x = self.low - self.scale * np.log1p(-u * mass)
        # Guard the open upper bound against floating-point round-up.
        return np.minimum(x, np.nextafter(self.high, -np.inf)) if math.isfinite(self.high) else x


@dataclass(frozen=True)
class PeriodTiming:
    """What one period of a task can last, declared by the task so that the base class can check,
    when the task is made, that every period lasts at least one step at ``dt`` and that no trial
    can outgrow the task's ``max_trial_steps``.

    Attributes:
        argument: the constructor argument(s) that set the period, named in error messages.
        duration: every duration the period can take on a regular (non-catch) trial, in ms (a
            distribution, or a ``Choice`` of the durations that the trial's parameters give it).
        can_be_zero: whether the period may last 0 ms by design (a delay drawn from 0); a positive
            duration that rounds to 0 steps is refused all the same.
    """

    argument: str
    duration: Duration
    can_be_zero: bool = False


def as_duration(value: Duration | float | int | Sequence, name: str) -> Duration:
    """Turn a user's ``name=value`` into a Duration, or raise a ValueError naming ``name``.

    Accepted: a Duration, a number (constant ms), ``("uniform", low, high)``,
    ``("choice", [v1, v2, ...])`` and ``("truncated_exponential", mean, min, max)``.
    """
    try:
        if isinstance(value, Duration):
            return value
        if isinstance(value, (int, float, np.integer, np.floating)) and not isinstance(value, bool):
            return Constant(float(value))
        if isinstance(value, (tuple, list)) and value and isinstance(value[0], str):
            kind, *args = value
            if kind == "constant":
                return Constant(*args)
            if kind == "uniform":
                return Uniform(*args)
            if kind == "choice":
                return Choice(tuple(args[0]), *args[1:])
            if kind in ("truncated_exponential", "trunc_exp"):
                return TruncatedExponential(*args)
    except (TypeError, ValueError) as err:
        raise ValueError(f"{name}: {err}") from None
    raise ValueError(
        f"{name} must be a duration in ms: a number, a neurotasks.timing.Duration, or a tuple "
        f"('uniform', low, high) / ('choice', values) / ('truncated_exponential', mean, min, max); "
        f"got {value!r}"
    )


def _check_nonnegative(value: float, what: str) -> None:
    if not (isinstance(value, (int, float, np.integer, np.floating)) and math.isfinite(value) and value >= 0):
        raise ValueError(f"duration {what} must be a finite number >= 0 ms, got {value!r}")
