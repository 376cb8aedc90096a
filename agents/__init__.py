"""agents: models that learn neurotasks tasks, their training, and the analyses of trained networks.

    import agents
    model = agents.EIRNN(n_in=3, n_out=2)                 # Song, Yang & Wang (2016) E/I rate RNN
    outputs, rates = agents.simulate(model, batch)        # NumPy in, NumPy out
    run = agents.train("PerceptualDecision-v0", model="gru")   # any model of the zoo, into a run folder
    model = agents.load("runs/PerceptualDecision-v0-...")  # a trained run folder

The model zoo (one surface, :mod:`agents.models`): ``EIRNN``, ``LeakyRNN`` (rnn), ``LowRankRNN`` (lowrank),
``GRUNetwork`` (gru), ``LSTMNetwork`` (lstm).

Names load on first use (torch and matplotlib are heavy), so ``neurotasks list`` stays light.
"""

from __future__ import annotations

import importlib
from typing import Any

from agents.extras import missing_extra

#: public name -> module that defines it
_EXPORTS = {
    "EIRNN": "agents.models.eirnn",
    "LeakyRNN": "agents.models.rnn",
    "LowRankRNN": "agents.models.lowrank",
    "GRUNetwork": "agents.models.gru",
    "LSTMNetwork": "agents.models.lstm",
    "masks": "agents.models.masks",
    "simulate": "agents.simulation",
    "simulate_outputs": "agents.simulation",
    "load": "agents.runs",
    "RunDir": "agents.runs",
    "train": "agents.training.trainer",
    "PRESETS": "agents.training.presets",
    "fit_psychometric": "agents.analysis.psychometric",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'agents' has no attribute {name!r}")
    try:
        module = importlib.import_module(_EXPORTS[name])
    except ModuleNotFoundError as err:
        message = missing_extra(err)
        if message is None:
            raise
        raise ModuleNotFoundError(f"agents.{name}: {message}", name=err.name) from err
    value = module if name == "masks" else getattr(module, name)
    globals()[name] = value          # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return __all__
