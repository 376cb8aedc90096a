"""``neurotasks speed``: how fast the library is (trial generation, environment steps, import), NeuroGym's
figures side by side. The measurements live in ``neurotasks.speed`` (torch-free)."""

from __future__ import annotations

import argparse

from neurotasks import speed


def add_parser(sub, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=speed.__doc__.splitlines()[0])
    speed.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    return speed.run_from_args(args)
