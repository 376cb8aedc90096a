"""The model zoo by name: name -> class, config -> model, model -> config, and ``--model-arg`` parsing.

    from agents.models import registry
    model = registry.build({"name": "lowrank", "n_in": 3, "n_out": 2, "rank": 2, "seed": 0})
    config = registry.config_of(model)       # {"name": "lowrank", "n_in": 3, ..., "seed": 0}, JSON-able
    same = registry.build(config)             # + same.load_state_dict(model.state_dict()): identical
    kwargs = registry.parse_model_args("lowrank", ["rank=2", "dale=true"])    # {"rank": 2, "dale": True}

A model's config is its constructor's arguments (``model.config``) plus its ``"name"``; a config without a name
is an ``eirnn`` one (run folders written before the zoo). Classes are imported on first use.
"""

from __future__ import annotations

import ast
import copy
import importlib
import inspect
import json
import types
import typing
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

#: name -> "module:Class"
MODELS: dict[str, str] = {
    "eirnn": "agents.models.eirnn:EIRNN",
    "rnn": "agents.models.rnn:LeakyRNN",
    "gru": "agents.models.gru:GRUNetwork",
    "lstm": "agents.models.lstm:LSTMNetwork",
    "lowrank": "agents.models.lowrank:LowRankRNN",
}
#: the key of a config that holds the model's name
NAME_KEY = "name"
#: the model of a config without a name
DEFAULT_MODEL = "eirnn"
#: arguments a run sets itself, not ``--model-arg``: name -> where they come from
RESERVED = {"n_in": "the task's input channels", "n_out": "the task's output channels",
            "seed": "the run's seed (--seed)"}


def names() -> tuple[str, ...]:
    """Every registered model name."""
    return tuple(MODELS)


def model_class(name: str) -> type:
    """The class registered as ``name``."""
    if not isinstance(name, str) or name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known models: {', '.join(MODELS)}")
    module, _, cls = MODELS[name].partition(":")
    return getattr(importlib.import_module(module), cls)


def name_of(model: Any) -> str:
    """The registered name of ``model``'s class."""
    for name in MODELS:
        if type(model) is model_class(name):
            return name
    raise ValueError(f"{type(model).__name__} is not a registered model; known models: {', '.join(MODELS)}")


def arguments(name: str) -> dict[str, Any]:
    """The model's own arguments and their defaults (``inspect.Parameter.empty`` where there is none), without
    ``n_in`` and ``n_out``."""
    signature = inspect.signature(model_class(name).__init__)
    return {p.name: p.default for p in list(signature.parameters.values())[1:]
            if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY) and p.name not in ("n_in", "n_out")}


def describe(name: str) -> str:
    """The model's docstring: its equations' summary and every argument with its default (for ``--help``)."""
    return inspect.getdoc(model_class(name)) or ""


def build(config: Mapping[str, Any]) -> Any:
    """The model a config describes: ``{"name": ..., "n_in": ..., "n_out": ..., **arguments}``."""
    if not isinstance(config, Mapping):
        raise ValueError(f"a model config must be a mapping, got {type(config).__name__}")
    kwargs = dict(config)
    name = kwargs.pop(NAME_KEY, DEFAULT_MODEL)
    cls = model_class(name)
    valid = ["n_in", "n_out", *arguments(name)]
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ValueError(f"unknown argument(s) {unknown} for model {name!r}; valid: {valid}")
    missing = [k for k in ("n_in", "n_out") if k not in kwargs]
    if missing:
        raise ValueError(f"a model config needs {' and '.join(missing)}")
    return cls(**kwargs)


def config_of(model: Any) -> dict[str, Any]:
    """``{"name": ..., **model.config}``, a JSON-able copy: ``build`` of it, then ``load_state_dict`` of the
    model's state dict, gives back an identical model."""
    config = {NAME_KEY: name_of(model), **copy.deepcopy(dict(model.config))}
    try:
        json.dumps(config, allow_nan=False)
    except (TypeError, ValueError) as err:
        raise ValueError(f"the config of {type(model).__name__} is not JSON-able: {err}") from None
    return config


# ---------------------------------------------------------------------- command-line arguments
def parse_model_args(name: str, pairs: Iterable[str]) -> dict[str, Any]:
    """``["rank=2", "nonlinearity=relu", "dale=true"]`` -> ``{"rank": 2, "nonlinearity": "relu", "dale": True}``.

    Values are read as JSON (numbers, true/false/null, lists, quoted strings), then as Python literals
    (True, None, ...), else kept as plain strings. Keys must be arguments of the model (a ValueError lists the
    valid ones; ``n_in``, ``n_out`` and ``seed`` are set by the run) and values of the type its signature gives.
    Ranges and choices are checked when the model is built.
    """
    out: dict[str, Any] = {}
    for pair in pairs:
        if not isinstance(pair, str):
            raise ValueError(f"expected model arguments as key=value strings, got {pair!r}")
        key, sep, text = pair.partition("=")
        key, text = key.strip(), text.strip()
        if not sep or not key.isidentifier():
            raise ValueError(f"expected a model argument as key=value, got {pair!r}")
        out[key] = _value(text)
    return check_arguments(name, out)


def check_arguments(name: str, kwargs: Mapping[str, Any]) -> dict[str, Any]:
    """``kwargs`` if every key is an argument of model ``name`` (not one the run sets) and every value has
    the type of its annotation; otherwise a ValueError naming the argument."""
    valid = arguments(name)
    hints = typing.get_type_hints(model_class(name).__init__)
    for key, value in kwargs.items():
        if key in RESERVED:
            raise ValueError(f"{key} is not a model argument to set: it comes from {RESERVED[key]}")
        if key not in valid:
            allowed = ", ".join(k for k in valid if k not in RESERVED)
            raise ValueError(f"unknown argument {key!r} for model {name!r}; valid: {allowed}")
        hint = hints.get(key, Any)
        if not _conforms(value, hint):
            raise ValueError(f"model argument {key} must be {_type_name(hint)}, got {value!r}")
    return dict(kwargs)


def _value(text: str) -> Any:
    try:
        return json.loads(text)
    except ValueError:
        pass
    try:
        return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError):
        return text


def _conforms(value: Any, hint: Any) -> bool:
    if hint is Any:
        return True
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return any(_conforms(value, h) for h in typing.get_args(hint))
    if hint is type(None):
        return value is None
    if hint is bool:
        return isinstance(value, bool)
    if hint is int:
        return isinstance(value, int) and not isinstance(value, bool)
    if hint is float:
        return isinstance(value, (int, float)) and not isinstance(value, bool)
    if hint is str:
        return isinstance(value, str)
    if hint in (list, tuple, np.ndarray) or typing.get_origin(hint) in (list, tuple):
        return isinstance(value, (list, tuple))
    return True                                           # anything else: the constructor checks it


def _type_name(hint: Any) -> str:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return " or ".join(_type_name(h) for h in typing.get_args(hint))
    if hint is type(None):
        return "null"
    if hint is np.ndarray:
        return "an array (a list)"
    return {bool: "true or false", int: "an int", float: "a number", str: "a string", list: "a list"}.get(
        hint, getattr(hint, "__name__", str(hint)))
