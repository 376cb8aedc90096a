"""Domains of per-trial parameters: what a forced value may be.

Every task declares, as data, the domain of each parameter it draws (``Task.param_domains``):
a set of allowed values (``Values``), a range of reals (``Reals``) or a flag (``Flag``). The base
class checks every forced value against its domain in one place, before anything is drawn: the
value is converted to the parameter's dtype, and anything that is not a number, not of the
right kind or outside the domain is refused with a ValueError naming the parameter.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from typing import Any

import numpy as np


class Domain:
    """The values a per-trial parameter may take; ``dtype`` is the dtype the task draws it in."""

    dtype: np.dtype

    def convert(self, value: Any, name: str, n: int) -> np.ndarray:
        """``value`` (a scalar or an (n,) array) as an (n,) array of ``dtype``, or a ValueError naming ``name``."""
        array = _numeric(value, name, n)
        if array.dtype.kind == "b" and self.dtype.kind != "b":
            raise ValueError(f"forced parameter {name} must be {self.describe()}, got a bool: {_show(value)}")
        if array.dtype.kind == "f" and self.dtype.kind in "iu" and not np.all(
                (np.abs(array) < 2.0**62) & (array == np.round(array))):      # whole numbers an int64 holds
            raise ValueError(f"forced parameter {name} must be {self.describe()}, got {_show(value)}")
        converted = np.broadcast_to(array, (n,)).astype(self.dtype, copy=True)
        if self.dtype.kind in "iu" and not np.array_equal(converted, np.broadcast_to(array, (n,))):  # beyond int64
            raise ValueError(f"forced parameter {name} must be {self.describe()}, got {_show(value)}")
        outside = ~self.contains(converted)
        if outside.any():
            raise ValueError(f"forced parameter {name} must be {self.describe()}, got "
                             f"{_show(np.unique(converted[outside]))}")
        return converted

    def contains(self, values: np.ndarray) -> np.ndarray:
        """(n,) bool: which of ``values`` (already of ``dtype``) lie in the domain."""
        raise NotImplementedError

    def describe(self) -> str:
        """The domain in words, for error messages and documentation."""
        raise NotImplementedError


class Flag(Domain):
    """True or False (given as bools, or as the integers 0 and 1)."""

    dtype = np.dtype(bool)

    def convert(self, value: Any, name: str, n: int) -> np.ndarray:
        array = _numeric(value, name, n)
        if array.dtype.kind == "f" or (array.dtype.kind in "iu" and not np.all((array == 0) | (array == 1))):
            raise ValueError(f"forced parameter {name} must be {self.describe()}, got {_show(value)}")
        return np.broadcast_to(array, (n,)).astype(bool, copy=True)

    def contains(self, values: np.ndarray) -> np.ndarray:
        return np.ones(values.shape, dtype=bool)

    def describe(self) -> str:
        return "True or False"


class Values(Domain):
    """One of a finite set of values (integers or reals)."""

    def __init__(self, values: Iterable[float], dtype: Any = np.int64, what: str = "") -> None:
        self.dtype = np.dtype(dtype)
        self.values = np.unique(np.asarray(list(values), dtype=self.dtype))
        if self.values.size == 0:
            raise ValueError("a Values domain needs at least one value")
        self.what = what

    def contains(self, values: np.ndarray) -> np.ndarray:
        return np.isin(values, self.values)

    def describe(self) -> str:
        shown = ", ".join(f"{v:g}" for v in self.values.tolist())
        return f"one of {{{shown}}}{f' ({self.what})' if self.what else ''}"


class Reals(Domain):
    """A finite real number in an interval (each end open or closed); ``excluded`` values are refused."""

    dtype = np.dtype(np.float64)

    def __init__(self, low: float = -math.inf, high: float = math.inf, *, low_open: bool = False,
                 high_open: bool = False, excluded: Iterable[float] = (), what: str = "") -> None:
        self.low, self.high = float(low), float(high)
        self.low_open, self.high_open = bool(low_open), bool(high_open)
        self.excluded = tuple(float(x) for x in excluded)
        self.what = what

    def contains(self, values: np.ndarray) -> np.ndarray:
        above = values > self.low if self.low_open else values >= self.low
        below = values < self.high if self.high_open else values <= self.high
        inside = above & below & np.isfinite(values)
        for x in self.excluded:
            inside &= values != x
        return inside

    def describe(self) -> str:
        text = (f"a finite number in {'(' if self.low_open else '['}{self.low:g}, {self.high:g}"
                f"{')' if self.high_open else ']'}")
        if self.excluded:
            text += " other than " + ", ".join(f"{x:g}" for x in self.excluded)
        return text + (f" ({self.what})" if self.what else "")


def _numeric(value: Any, name: str, n: int) -> np.ndarray:
    """``value`` as a numeric (bool, int or real) array of shape () or (n,), or a ValueError naming ``name``."""
    try:
        array = np.asarray(value)
    except (TypeError, ValueError):
        raise ValueError(f"forced parameter {name} must be a number or an array of ({n},) numbers, "
                         f"got {_show(value)}") from None
    if array.dtype.kind not in "biuf":
        raise ValueError(f"forced parameter {name} must be a number or an array of ({n},) numbers, "
                         f"got {_show(value)}")
    if array.ndim > 1 or (array.ndim == 1 and array.shape[0] != n):
        raise ValueError(f"forced parameter {name} must be a scalar or have shape ({n},), got shape {array.shape}")
    return array


def _show(value: Any, limit: int = 80) -> str:
    text = repr(value.tolist() if isinstance(value, np.ndarray) else value)
    return text if len(text) <= limit else text[:limit - 3] + "..."


__all__ = ["Domain", "Flag", "Reals", "Values"]
