"""``neurotasks bench``: trial-generation, environment and import speed (and NeuroGym's, side by side)."""

from __future__ import annotations

import argparse

from agents import benchmarking


def add_parser(sub, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=benchmarking.__doc__.splitlines()[0])
    benchmarking.add_arguments(p)


def run(args: argparse.Namespace) -> int:
    return benchmarking.run_from_args(args)
