"""``neurotasks list``: every task id, a one-line description and its tags."""

from __future__ import annotations

import argparse
import json

import neurotasks


def add_parser(sub, name: str, help_text: str) -> None:
    p = sub.add_parser(name, help=help_text, description=help_text)
    p.add_argument("--tag", help="only tasks carrying this tag (e.g. 'working memory', 'neurogym')")
    p.add_argument("--source", help="only tasks whose reference contains this text, case-insensitive "
                                    "(e.g. 'Yang et al. 2019', 'NeuroGym', 'Song, Yang & Wang 2016')")
    p.add_argument("--format", choices=("text", "markdown", "json"), default="text",
                   help="text (default), the README's markdown table, or JSON metadata")


def run(args: argparse.Namespace) -> int:
    ids = neurotasks.list_tasks(tag=args.tag, source=args.source)
    if args.format == "json":
        print(json.dumps([neurotasks.make_task(i).describe() for i in ids], indent=2))
    elif args.format == "markdown":
        print(markdown_table(ids))
    else:
        width = max((len(i) for i in ids), default=0)
        for task_id in ids:
            cls = neurotasks.task_class(task_id)
            print(f"{task_id:<{width}}  {cls.summary}  [{', '.join(cls.tags)}]")
    return 0


def markdown_table(ids: list[str]) -> str:
    """The README's task table, generated from each task's metadata (never typed by hand)."""
    rows = ["| id | what it models | reference | inputs | outputs / actions | periods | criterion | trial |",
            "|---|---|---|---|---|---|---|---|"]
    for task_id in ids:
        d = neurotasks.make_task(task_id).describe()
        actions = d["actions"] if isinstance(d["actions"], str) else f"Discrete({len(d['actions'])})"
        rows.append(f"| `{d['id']}` | {d['summary']} | {d['reference']} | {_names(d['inputs'])} | "
                    f"{_names(d['outputs'])} / {actions} | {' → '.join(d['periods'])} | {d['criterion']} | "
                    f"[picture](examples/gallery/{task_id}.png) |")
    return "\n".join(rows)


def _names(names: list[str]) -> str:
    """Channel names for a table cell; long lists are abbreviated to first … last (count)."""
    return ", ".join(names) if len(names) <= 6 else f"{names[0]} … {names[-1]} ({len(names)})"
