"""Performance criteria: when a trainer may stop."""

from __future__ import annotations

import operator
from collections.abc import Sequence
from dataclasses import dataclass

_OPS = {">": operator.gt, ">=": operator.ge, "<": operator.lt, "<=": operator.le}


@dataclass(frozen=True)
class Criterion:
    """``mean(last `window` values of score[metric]) <op> threshold``.

    The paper's perceptual-decision criterion is ``Criterion("percent_correct", ">", 85, window=5)``:
    the mean percent correct of the last five validations above 85 %.
    """

    metric: str = "percent_correct"
    op: str = ">"
    threshold: float = 85.0
    window: int = 1

    def __post_init__(self) -> None:
        if self.op not in _OPS:
            raise ValueError(f"criterion op must be one of {sorted(_OPS)}, got {self.op!r}")
        if self.window < 1:
            raise ValueError(f"criterion window must be >= 1, got {self.window}")

    @property
    def higher_is_better(self) -> bool:
        return self.op in (">", ">=")

    def met(self, history: Sequence[float]) -> bool:
        """Whether the last ``window`` validation scores satisfy the criterion."""
        if len(history) < self.window:
            return False
        recent = [float(x) for x in history[-self.window :]]
        return bool(_OPS[self.op](sum(recent) / len(recent), self.threshold))

    def __str__(self) -> str:
        what = self.metric if self.window == 1 else f"mean of last {self.window} {self.metric}"
        return f"{what} {self.op} {self.threshold:g}"
