"""The shipped RL-Zoo hyperparameter files, read without running code, and checked against the algorithm.

    hyperparams_file("ppo_lstm")          # .../agents/rl/hyperparams/ppo_lstm.yml (RL-Zoo's name for RecurrentPPO)
    resolve(AGENTS["recurrent-ppo"], "PerceptualDecision-v0", {"learning_rate": 3e-4})

The files are in RL-Zoo's format (one entry per Gymnasium id; ``policy_kwargs`` a string such as
``"dict(net_arch=[64], activation_fn=nn.Tanh)"``), so ``python -m rl_zoo3.train --algo ppo_lstm
--env ID --gym-packages neurotasks --conf-file <file>`` uses the same numbers as ``train_agent``.
RL-Zoo ``eval``s that string; here it is parsed (:func:`parse_policy_kwargs`): literals, ``dict(...)``
and a short allow-list of torch classes only, so neither a file nor a run folder can run code.

:func:`resolve` gives the hyperparameters a run uses, as JSON: the algorithm's own defaults, then the
file's entry, then the caller's overrides, each key checked against the algorithm's constructor
(plus RL-Zoo's ``n_envs``, ``n_timesteps``, ``policy``, ``normalize``), values checked by type and range.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

#: where the YAML files are shipped (package data of ``agents``)
HYPERPARAMS_DIR = Path(__file__).with_name("hyperparams")


@dataclass(frozen=True)
class AgentSpec:
    """An SB3 algorithm as an agent of this project."""

    name: str            #: the agent's name here (``--agent``)
    module: str          #: the package that defines the algorithm
    algorithm: str       #: its class name
    zoo_name: str        #: RL-Zoo's name for it (``--algo``, and the YAML file's stem)
    recurrent: bool      #: whether the policy carries a state (an LSTM) from step to step

    def algorithm_class(self) -> type:
        return getattr(importlib.import_module(self.module), self.algorithm)

    @property
    def qualified_name(self) -> str:
        return f"{self.module}.{self.algorithm}"


AGENTS: dict[str, AgentSpec] = {
    "ppo": AgentSpec("ppo", "stable_baselines3", "PPO", "ppo", recurrent=False),
    "recurrent-ppo": AgentSpec("recurrent-ppo", "sb3_contrib", "RecurrentPPO", "ppo_lstm", recurrent=True),
}

#: RL-Zoo's own keys of an entry that train_agent understands (the rest are constructor arguments)
ZOO_KEYS = ("n_envs", "n_timesteps", "policy", "normalize")
#: RL-Zoo keys train_agent does not support, and why
UNSUPPORTED_ZOO_KEYS = {
    "env_wrapper": "the run folder must describe the environment completely (task id and task arguments)",
    "vec_env_wrapper": "the run folder must describe the environment completely (task id and task arguments)",
    "frame_stack": "use recurrent-ppo for memory",
    "callback": "train_agent installs its own validation callback",
    "env_kwargs": "give task arguments as task_kwargs",
    "monitor_kwargs": "trials are counted by train_agent itself",
    "noise_type": "action noise is for off-policy algorithms",
    "noise_std": "action noise is for off-policy algorithms",
}
#: constructor arguments that train_agent sets itself, or that cannot be stored as JSON
NOT_HYPERPARAMETERS = ("self", "policy", "env", "verbose", "seed", "device", "tensorboard_log", "_init_setup_model",
                       "rollout_buffer_class", "rollout_buffer_kwargs")
#: torch classes a policy_kwargs string may name (RL-Zoo writes ``nn.ReLU``; ``th`` is RL-Zoo's torch alias)
NAMED_CLASSES = {
    **{f"nn.{name}": ("torch.nn", name) for name in ("ReLU", "Tanh", "ELU", "LeakyReLU", "GELU", "SiLU", "Sigmoid",
                                                      "Softplus", "Identity")},
    **{f"th.optim.{name}": ("torch.optim", name) for name in ("Adam", "AdamW", "RMSprop", "SGD")},
}
#: policy_kwargs entries whose value is one of NAMED_CLASSES
CLASS_KEYS = ("activation_fn", "optimizer_class")


def agent_spec(agent: str) -> AgentSpec:
    """The agent named ``agent``; a ValueError listing the known ones otherwise."""
    if not isinstance(agent, str) or agent not in AGENTS:
        raise ValueError(f"unknown agent {agent!r}; known agents: {', '.join(AGENTS)}")
    return AGENTS[agent]


def hyperparams_file(algo: str) -> Path:
    """The shipped YAML file of ``algo``: RL-Zoo's name (``"ppo"``, ``"ppo_lstm"``) or an agent's name."""
    names = {spec.zoo_name: spec.zoo_name for spec in AGENTS.values()} | \
        {spec.name: spec.zoo_name for spec in AGENTS.values()}
    if algo not in names:
        raise ValueError(f"no hyperparameter file for {algo!r}; known: {', '.join(sorted(names))}")
    return HYPERPARAMS_DIR / f"{names[algo]}.yml"


def read_file(path: str | Path) -> dict[str, dict[str, Any]]:
    """An RL-Zoo YAML file as {env id: entry} (``yaml.safe_load``: plain data, no tags that build objects)."""
    import yaml

    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as err:
        raise ValueError(f"cannot read the hyperparameter file {path}: {err.strerror or err}") from None
    except yaml.YAMLError as err:
        raise ValueError(f"{path} is not valid YAML: {err}") from None
    if not isinstance(data, dict) or not all(isinstance(v, dict) for v in data.values()):
        raise ValueError(f"{path} is not an RL-Zoo hyperparameter file (expected env id -> mapping)")
    return data


def zoo_entry(spec: AgentSpec, task_id: str) -> dict[str, Any]:
    """The entry of ``task_id`` in the agent's shipped file, or its ``default`` entry (as RL-Zoo falls back)."""
    path = hyperparams_file(spec.zoo_name)
    data = read_file(path)
    if task_id in data:
        return dict(data[task_id])
    if "default" in data:
        return dict(data["default"])
    raise ValueError(f"{path} has no entry for {task_id!r} and no default entry")


# ---------------------------------------------------------------------- policy_kwargs strings
def parse_policy_kwargs(text: str) -> dict[str, Any]:
    """RL-Zoo's ``policy_kwargs`` string (``"dict(net_arch=[64], activation_fn=nn.ReLU)"``) as JSON-able data,
    class names kept as strings (``"nn.ReLU"``). Anything but literals, ``dict(...)`` and the names of
    NAMED_CLASSES is refused: the string is read, never run."""
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as err:
        raise ValueError(f"policy_kwargs {text!r} is not a Python expression: {err.msg}") from None
    value = _literal(tree.body, text)
    if not isinstance(value, dict):
        raise ValueError(f"policy_kwargs {text!r} must be a dict(...) or {{...}}")
    return value


def _literal(node: ast.AST, text: str) -> Any:
    if isinstance(node, ast.Constant) and isinstance(node.value, (int, float, str, bool, type(None))):
        return node.value
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub) and isinstance(node.operand, ast.Constant) \
            and isinstance(node.operand.value, (int, float)) and not isinstance(node.operand.value, bool):
        return -node.operand.value
    if isinstance(node, (ast.List, ast.Tuple)):
        return [_literal(item, text) for item in node.elts]
    if isinstance(node, ast.Dict):
        keys = [_literal(k, text) if k is not None else None for k in node.keys]
        if not all(isinstance(k, str) for k in keys):
            raise ValueError(f"policy_kwargs {text!r}: dict keys must be strings")
        return {k: _literal(v, text) for k, v in zip(keys, node.values, strict=True)}
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "dict" and not node.args \
            and all(kw.arg is not None for kw in node.keywords):
        return {kw.arg: _literal(kw.value, text) for kw in node.keywords}
    name = _dotted_name(node)
    if name in NAMED_CLASSES:
        return name
    shown = ast.get_source_segment(text.strip(), node) or type(node).__name__
    raise ValueError(f"policy_kwargs {text!r}: {shown!r} is not allowed (only literals, dict(...) and "
                     f"{', '.join(sorted(NAMED_CLASSES))})")


def _dotted_name(node: ast.AST) -> str | None:
    parts = []
    while isinstance(node, ast.Attribute):
        parts.append(node.attr)
        node = node.value
    if not isinstance(node, ast.Name):
        return None
    return ".".join([node.id, *reversed(parts)])


def policy_kwargs_to_json(value: Any) -> dict[str, Any]:
    """``policy_kwargs`` given as an RL-Zoo string, a dict of plain values, or a dict holding allowed torch
    classes, as JSON-able data (classes by name)."""
    if value is None:
        return {}
    if isinstance(value, str):
        return parse_policy_kwargs(value)
    if not isinstance(value, Mapping):
        raise ValueError(f"policy_kwargs must be a dict or an RL-Zoo string, got {type(value).__name__}")
    out = {}
    for key, item in value.items():
        if key in CLASS_KEYS and not isinstance(item, str):
            names = [n for n, (module, cls) in NAMED_CLASSES.items()
                     if getattr(importlib.import_module(module), cls) is item]
            if not names:
                raise ValueError(f"policy_kwargs[{key!r}] must be one of {', '.join(sorted(NAMED_CLASSES))}, "
                                 f"got {item!r}")
            item = names[0]
        out[key] = item
    _check_json(out, "policy_kwargs")
    return out


def policy_kwargs_objects(data: Mapping[str, Any]) -> dict[str, Any]:
    """JSON-form ``policy_kwargs`` as the policy takes them (class names resolved through the allow-list)."""
    out = dict(data)
    for key in CLASS_KEYS:
        if key in out:
            name = out[key]
            if name not in NAMED_CLASSES:
                raise ValueError(f"policy_kwargs[{key!r}] must be one of {', '.join(sorted(NAMED_CLASSES))}, "
                                 f"got {name!r}")
            module, cls = NAMED_CLASSES[name]
            out[key] = getattr(importlib.import_module(module), cls)
    return out


def _check_json(value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        for k, v in value.items():
            if not isinstance(k, str):
                raise ValueError(f"{where}: keys must be strings, got {k!r}")
            _check_json(v, f"{where}[{k!r}]")
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_json(v, f"{where}[{i}]")
    elif not isinstance(value, (str, int, float, bool, type(None))):
        raise ValueError(f"{where}: {type(value).__name__} values cannot be stored in a run folder")


# ---------------------------------------------------------------------- the hyperparameters of a run
def constructor_defaults(spec: AgentSpec) -> dict[str, Any]:
    """The algorithm's constructor arguments that are hyperparameters, with their defaults."""
    signature = inspect.signature(spec.algorithm_class().__init__)
    return {name: p.default for name, p in signature.parameters.items()
            if name not in NOT_HYPERPARAMETERS and p.kind is not p.VAR_KEYWORD}


def _positive_int(value: Any, key: str) -> int:
    if isinstance(value, float) and value.is_integer():
        value = int(value)                      # YAML's !!float 1e6
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"hyperparameter {key} must be a positive int, got {value!r}")
    return value


def _number(value: Any, key: str, low: float = -math.inf, high: float = math.inf, *, low_open: bool = False) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise ValueError(f"hyperparameter {key} must be a finite number, got {value!r}")
    if value > high or value < low or (low_open and value == low):
        bound = f"{'(' if low_open else '['}{low:g}, {high:g}]"
        raise ValueError(f"hyperparameter {key} must be in {bound}, got {value!r}")
    return float(value)


def _positive_or_none(value: Any, key: str) -> float | None:
    return None if value is None else _number(value, key, 0.0, low_open=True)


def _flag(value: Any, key: str) -> bool:
    if not isinstance(value, bool):
        raise ValueError(f"hyperparameter {key} must be true or false, got {value!r}")
    return value


def _int(value: Any, key: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"hyperparameter {key} must be an int, got {value!r}")
    return value


#: type and range checks of the hyperparameters (the algorithm checks how they fit together when it is built)
_CHECKS = {
    "n_envs": _positive_int, "n_timesteps": _positive_int, "n_steps": _positive_int, "batch_size": _positive_int,
    "n_epochs": _positive_int,
    "learning_rate": lambda v, k: _number(v, k, 0.0, low_open=True),
    "gamma": lambda v, k: _number(v, k, 0.0, 1.0), "gae_lambda": lambda v, k: _number(v, k, 0.0, 1.0),
    "clip_range": lambda v, k: _number(v, k, 0.0, low_open=True),
    "ent_coef": lambda v, k: _number(v, k, 0.0), "vf_coef": lambda v, k: _number(v, k, 0.0),
    "max_grad_norm": lambda v, k: _number(v, k, 0.0, low_open=True),
    "clip_range_vf": _positive_or_none, "target_kl": _positive_or_none,
    "normalize_advantage": _flag, "use_sde": _flag, "sde_sample_freq": _int, "stats_window_size": _positive_int,
}


def resolve(spec: AgentSpec, task_id: str, overrides: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The hyperparameters of a run of ``spec`` on ``task_id``, as JSON: constructor defaults, then the shipped
    entry, then ``overrides``; every key and value checked (ValueError naming the key)."""
    if overrides is not None and not isinstance(overrides, Mapping):
        raise TypeError(f"hyperparams must be a dict, got {type(overrides).__name__}")
    defaults = constructor_defaults(spec)
    entry = zoo_entry(spec, task_id)
    given = {**entry, **dict(overrides or {})}
    unsupported = sorted(k for k in given if k in UNSUPPORTED_ZOO_KEYS)
    if unsupported:
        key = unsupported[0]
        raise ValueError(f"hyperparameter {key} is an RL-Zoo option train_agent does not support "
                         f"({UNSUPPORTED_ZOO_KEYS[key]})")
    valid = sorted({*defaults, *ZOO_KEYS})
    unknown = sorted(k for k in given if k not in valid)
    if unknown:
        raise ValueError(f"unknown hyperparameter(s) {unknown} for {spec.algorithm}; valid: {valid}")
    hp: dict[str, Any] = {**defaults, "policy": None, "n_envs": 1, "n_timesteps": None, **given}
    policies = sorted(spec.algorithm_class().policy_aliases)
    if hp["policy"] is None:
        hp["policy"] = policies[0] if len(policies) == 1 else ("MlpLstmPolicy" if spec.recurrent else "MlpPolicy")
    if hp["policy"] not in ("MlpPolicy", "MlpLstmPolicy") or hp["policy"] not in policies:
        mlp = [p for p in policies if p.startswith("Mlp")]
        raise ValueError(f"hyperparameter policy must be {' or '.join(mlp)} (observations are vectors), "
                         f"got {hp['policy']!r}")
    if hp["n_timesteps"] is None:
        raise ValueError(f"hyperparameter n_timesteps is missing for {task_id} (the entry's training budget)")
    normalize = hp.pop("normalize", False)
    if normalize not in (False, None):
        raise ValueError("hyperparameter normalize: VecNormalize is not supported by train_agent (its running "
                         "statistics would be a second, unscored part of the policy); the tasks' observations "
                         "are bounded and their rewards within [-1, 1]")
    for key in ("learning_rate", "clip_range", "clip_range_vf"):
        if isinstance(hp.get(key), str):
            raise ValueError(f"hyperparameter {key}: schedules such as {hp[key]!r} are not supported by "
                             "train_agent (it trains to a criterion, not for a fixed number of steps); give a number")
    for key, check in _CHECKS.items():
        if key in hp:
            hp[key] = check(hp[key], key)
    for key in ("n_envs", "n_timesteps", "n_steps", "batch_size", "n_epochs"):
        if key in hp:
            hp[key] = int(hp[key])
    hp["policy_kwargs"] = policy_kwargs_to_json(hp.get("policy_kwargs"))
    _check_policy_kwargs(spec, hp["policy"], hp["policy_kwargs"])
    for key, value in hp.items():
        if callable(value):
            raise ValueError(f"hyperparameter {key} must be a plain value, got {value!r}")
        _check_json(value, f"hyperparameter {key}")
    return hp


def _check_policy_kwargs(spec: AgentSpec, policy: str, kwargs: Mapping[str, Any]) -> None:
    policy_class = spec.algorithm_class().policy_aliases[policy]
    parameters = inspect.signature(policy_class.__init__).parameters
    valid = sorted(k for k in parameters if k not in ("self", "observation_space", "action_space", "lr_schedule"))
    unknown = sorted(set(kwargs) - set(valid))
    if unknown:
        raise ValueError(f"unknown policy_kwargs {unknown} for {policy}; valid: {valid}")
    policy_kwargs_objects(kwargs)                   # class names resolve


def constructor_kwargs(hp: Mapping[str, Any]) -> tuple[str, dict[str, Any]]:
    """(policy name, keyword arguments of the algorithm's constructor) from :func:`resolve`'s result."""
    kwargs = {k: v for k, v in hp.items() if k not in ZOO_KEYS}
    kwargs["policy_kwargs"] = policy_kwargs_objects(hp.get("policy_kwargs") or {})
    return hp["policy"], kwargs
