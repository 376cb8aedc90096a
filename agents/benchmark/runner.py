"""Running cells as Ray tasks: start (or join) Ray, one task per cell with its CPUs declared, stop Ray.

Without an address, a local Ray is started for the command (``ray.init(address="local")``: never
an existing cluster by accident) with every CPU of the machine, on the loopback address, without
the dashboard, and stopped by ``ray.shutdown()`` when the cells end, fail, or the command is
interrupted (Ctrl-C, or SIGTERM, which is turned into the same clean exit). With an address the
command joins that cluster and only disconnects at the end; its cells must see the same ``--out``
folder (a shared file system) and the same installed packages.

Each cell is ``ray.remote(run_cell)`` with ``num_cpus`` set, no retries (a failed cell is reported
and tried again by the next run of the command, which resumes it). Only the Ray error of a cell that
could not finish its own bookkeeping (its worker died) is written to its error.json here.
"""

from __future__ import annotations

import contextlib
import logging
import os
import signal
import threading
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from agents.benchmark.cells import Budget, Cell, record_failure, run_cell

#: object store of the local Ray: cells return a few hundred bytes each
LOCAL_OBJECT_STORE_BYTES = 100 * 2**20

Report = Callable[[Cell, dict[str, Any]], None]


class RayUnavailable(RuntimeError):
    """Ray is not installed, or the cluster cannot run a cell."""


def machine_cpus() -> int:
    """CPUs this process may use (its affinity), for the local Ray."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:                       # not on Linux
        return os.cpu_count() or 1


def import_ray():
    try:
        import ray
    except ImportError as err:
        from agents.extras import missing_extra

        hint = (missing_extra(err) if isinstance(err, ModuleNotFoundError) else None) or "pip install ray"
        raise RayUnavailable(f"neurotasks benchmark runs its cells on Ray, which is not installed: {hint}") from None
    return ray


@contextlib.contextmanager
def sigterm_as_exit() -> Iterator[None]:
    """While inside, SIGTERM raises SystemExit (so every ``finally`` runs: Ray is stopped), as Ctrl-C raises
    KeyboardInterrupt. Only from the main thread; the previous handler comes back afterwards."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def exit_on_sigterm(signum, frame):
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, exit_on_sigterm)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def run_cells(cells: Sequence[Cell], budget: Budget, out: str | Path, *, address: str | None = None,
              cpus_per_cell: int = 1, figures: bool = False, report: Report | None = None,
              tick: Callable[[], None] | None = None) -> dict[Cell, dict[str, Any]]:
    """Run every cell as a Ray task; returns each cell's outcome (see ``run_cell``) and calls
    ``report(cell, outcome)`` as each one ends, and ``tick()`` about every second (to redraw a clock). Ray is
    stopped (or left, for an ``address``) on return, on error and on KeyboardInterrupt/SystemExit, which are
    re-raised."""
    ray = import_ray()
    out = Path(out).resolve()
    outcomes: dict[Cell, dict[str, Any]] = {}
    with sigterm_as_exit():
        try:
            _start(ray, address)
            _check_capacity(ray, cpus_per_cell, address)
            remote = ray.remote(num_cpus=cpus_per_cell, max_retries=0)(run_cell)
            pending = {remote.options(name=cell.name).remote(cell, budget, str(out), threads=cpus_per_cell,
                                                             figures=figures): cell for cell in cells}
            try:
                while pending:
                    ready, _ = ray.wait(list(pending), num_returns=1, timeout=1.0)
                    if tick is not None:
                        tick()
                    for ref in ready:
                        cell = pending.pop(ref)
                        try:
                            outcome = ray.get(ref)
                        except ray.exceptions.RayError as err:   # the worker died (killed, out of memory ...)
                            outcome = record_failure(cell.folder(out), err)
                        outcomes[cell] = outcome
                        if report is not None:
                            report(cell, outcome)
            finally:
                if address is not None:              # interrupted: stop our cells still running on the cluster
                    for ref in pending:              # (a local Ray ends with them at shutdown)
                        with contextlib.suppress(Exception):
                            ray.cancel(ref, force=True)
        finally:
            ray.shutdown()
    return outcomes


def _start(ray: Any, address: str | None) -> None:
    """A local Ray of our own, or the cluster at ``address``; a failure to start or to join is RayUnavailable."""
    try:
        if address is None:
            ray.init(address="local", num_cpus=machine_cpus(), include_dashboard=False, log_to_driver=False,
                     logging_level=logging.ERROR, _node_ip_address="127.0.0.1",
                     object_store_memory=LOCAL_OBJECT_STORE_BYTES)
        else:
            ray.init(address=address, log_to_driver=False, logging_level=logging.ERROR)
    except (ConnectionError, RuntimeError, ValueError) as err:
        where = f"join the Ray cluster at {address}" if address else "start a local Ray"
        first = (str(err).strip().splitlines() or [""])[0]
        raise RayUnavailable(f"could not {where}: {type(err).__name__}: {first}") from None


def _check_capacity(ray: Any, cpus_per_cell: int, address: str | None) -> None:
    cpus = ray.cluster_resources().get("CPU", 0)
    if cpus < cpus_per_cell:
        where = f"the Ray cluster at {address}" if address else "this machine"
        raise RayUnavailable(f"--cpus-per-cell {cpus_per_cell} is more than {where} has ({cpus:g} CPUs)")
