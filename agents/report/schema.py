"""The schema of ``report.json`` (version 1), and a check that a file follows it.

    {
      "schema": "neurotasks-report", "schema_version": 1,
      "created": "2026-12-07T03:00:00+00:00",
      "run": {"path": str, "task": {"id": str, "kwargs": {...}}, "model": str, "agent": bool, "metrics": {...}},
      "settings": {"trials": int, "seed": int, "only": [str] | null},
      "versions": {"neurotasks": str, "python": str, "numpy": str, "torch": str | null},
      "sections": [
        {"name": str,                    # the analysis (see agents.report.registry; --only takes these)
         "title": str,
         "paper_figure": str,            # e.g. "Song et al. 2016, Fig. 2C"
         "status": "done" | "skipped" | "failed",
         "reason": str,                  # why skipped or failed ("" when done)
         "numbers": {...},               # every number the analysis measured (arrays as lists, NaN as null)
         "figures": [{"file": "figures/<name>.png", "paper_figure": str, "caption": str}],
         "notes": [str]}
      ]
    }

A change that removes or renames a key, or changes a value's meaning, raises ``schema_version``; adding keys
does not.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

SCHEMA = "neurotasks-report"
SCHEMA_VERSION = 1
STATUSES = ("done", "skipped", "failed")

_TOP = {"schema": str, "schema_version": int, "created": str, "run": Mapping, "settings": Mapping,
        "versions": Mapping, "sections": list}
_RUN = {"path": str, "task": Mapping, "model": str, "agent": bool, "metrics": Mapping}
_SECTION = {"name": str, "title": str, "paper_figure": str, "status": str, "reason": str, "numbers": Mapping,
            "figures": list, "notes": list}
_FIGURE = {"file": str, "paper_figure": str, "caption": str}


def _fields(data: Any, spec: Mapping[str, type], where: str) -> None:
    if not isinstance(data, Mapping):
        raise ValueError(f"{where} must be an object, got {type(data).__name__}")
    for key, kind in spec.items():
        if key not in data:
            raise ValueError(f"{where} has no {key!r}")
        value = data[key]
        if not isinstance(value, kind) or (kind is int and isinstance(value, bool)):
            raise ValueError(f"{where}.{key} must be {getattr(kind, '__name__', kind)}, got {type(value).__name__}")


def validate(data: Any) -> None:
    """A ValueError naming the first key of ``data`` (a parsed report.json) that breaks the schema."""
    _fields(data, _TOP, "report")
    if data["schema"] != SCHEMA:
        raise ValueError(f"report.schema must be {SCHEMA!r}, got {data['schema']!r}")
    if data["schema_version"] != SCHEMA_VERSION:
        raise ValueError(f"report.schema_version {data['schema_version']} is not {SCHEMA_VERSION}")
    _fields(data["run"], _RUN, "report.run")
    if not isinstance(data["run"]["task"].get("id"), str):
        raise ValueError("report.run.task.id must be a string")
    for i, section in enumerate(data["sections"]):
        where = f"report.sections[{i}]"
        _fields(section, _SECTION, where)
        if section["status"] not in STATUSES:
            raise ValueError(f"{where}.status must be one of {STATUSES}, got {section['status']!r}")
        if section["status"] != "done" and not section["reason"]:
            raise ValueError(f"{where} is {section['status']} without a reason")
        for j, figure in enumerate(section["figures"]):
            _fields(figure, _FIGURE, f"{where}.figures[{j}]")
