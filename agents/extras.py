"""Which optional extra brings which third-party module, for a clear message when one is missing.

``pip install neurotasks`` installs the environments only (NumPy and Gymnasium). Everything in
``agents`` that trains, simulates, fits or draws needs the ``agents`` extra; a command that meets
a missing module says which extra to install instead of printing a traceback.
"""

from __future__ import annotations

#: top-level module -> the extra of ``neurotasks`` that installs it
EXTRA_OF_MODULE: dict[str, str] = {
    "torch": "agents",
    "matplotlib": "agents",
    "scipy": "agents",
    "tqdm": "agents",
    "safetensors": "agents",
    "stable_baselines3": "agents",
    "sb3_contrib": "agents",
    "ray": "agents",
    "tensorboard": "tensorboard",
}


def missing_extra(err: ModuleNotFoundError) -> str | None:
    """The message for a module that an extra would have installed, or None for any other module."""
    root = (err.name or "").partition(".")[0]
    extra = EXTRA_OF_MODULE.get(root)
    if extra is None:
        return None
    return (f"this needs the '{extra}' extra of neurotasks (module {root!r} is not installed): "
            f"pip install 'neurotasks[{extra}]'")
