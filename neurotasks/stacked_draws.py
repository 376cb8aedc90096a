"""GeneratorStack: many generators behind one Generator's face, for drawing many chunks at once.

The vector environment needs ``n`` trials from each of hundreds of generators, each exactly as
``task.trials(n, rng_i)`` would draw them. Calling a task's ``sample_params`` and
``sample_durations`` once per generator costs tens of array operations each time; passed a
``GeneratorStack``, they run once for all ``g`` generators on ``g n`` trials, and each of their
draws becomes one call per generator -- ``rng_i.integers(0, 2, size=n)`` for
``stack.integers(0, 2, size=g n)`` -- concatenated in generator order. Generator i thus makes
the same calls, in the same order, with the same arguments, as in its own ``trials`` call, so
its stream advances identically.

That holds when the hooks draw unconditionally, with sizes that depend on ``n`` only (every
built-in task does). A draw the stack cannot split -- no ``size``, a first axis other than
``g n``, an array argument, a method it doesn't know -- raises ``StackError``, and the caller
draws generator by generator instead.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np


class StackError(RuntimeError):
    """A draw that cannot be split between the stacked generators."""


#: Generator methods the stack splits: their arguments in positional order (``size`` among
#: them), and those that are never per-trial (passed whole to each generator, arrays or not).
_METHODS: dict[str, tuple[tuple[str, ...], frozenset[str]]] = {
    "random": (("size",), frozenset()),
    "standard_normal": (("size",), frozenset()),
    "standard_exponential": (("size",), frozenset()),
    "integers": (("low", "high", "size"), frozenset()),
    "uniform": (("low", "high", "size"), frozenset()),
    "normal": (("loc", "scale", "size"), frozenset()),
    "exponential": (("scale", "size"), frozenset()),
    "rayleigh": (("scale", "size"), frozenset()),
    "choice": (("a", "size"), frozenset({"a", "p"})),
}


class GeneratorStack:
    """Draws of ``n`` per generator from ``rngs``, made through one object as if from one generator of ``g n``."""

    def __init__(self, rngs: Sequence[np.random.Generator], n: int) -> None:
        self.rngs = list(rngs)
        self.n = int(n)
        self.total = self.n * len(self.rngs)

    def __getattr__(self, name: str) -> Any:
        if name not in _METHODS:
            raise StackError(f"GeneratorStack cannot split Generator.{name}")

        def draw(*args: Any, **kwargs: Any) -> np.ndarray:
            return self._draw(name, args, kwargs)

        return draw

    def _draw(self, name: str, args: tuple[Any, ...], kwargs: dict[str, Any]) -> np.ndarray:
        names, whole = _METHODS[name]
        if len(args) > len(names):
            raise StackError(f"{name}: too many positional arguments to split")
        named = {**dict(zip(names, args, strict=False)), **kwargs}
        size = named.pop("size", None)
        shape = (size,) if isinstance(size, (int, np.integer)) else tuple(size) if size is not None else ()
        if not shape or shape[0] != self.total:
            raise StackError(f"{name}: size {size!r} does not start with {self.total}")
        for key, value in named.items():
            if key not in whole and np.ndim(value) > 0:
                raise StackError(f"{name}: array argument {key} cannot be split")
        part = (self.n, *shape[1:])
        method = getattr(np.random.Generator, name)
        return np.concatenate([method(rng, size=part, **named) for rng in self.rngs])
