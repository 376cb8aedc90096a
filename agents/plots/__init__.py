"""Figures of tasks, trained networks and their analyses, one module per kind of figure."""
