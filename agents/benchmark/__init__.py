"""Benchmarking models on tasks: ``neurotasks benchmark``.

A benchmark is a grid of cells, task × model × seed. Each cell is one ordinary training run into its
own run folder (:mod:`agents.benchmark.cells`); the models a cell can train are named in one table
(:mod:`agents.benchmark.zoo`); :mod:`agents.benchmark.runner` maps the cells onto Ray tasks; the
table (:mod:`agents.benchmark.results`) and the figures (:mod:`agents.benchmark.figures`) are built
from the run folders alone, so they can be rebuilt at any time. Nothing in a cell knows it runs
under Ray.

Importing this package imports neither Ray nor torch.
"""
