"""The task suite. Every module here is imported, so each Task subclass with an ``id`` registers
itself; adding a task is adding a file."""

import importlib
import pkgutil

for _module in pkgutil.iter_modules(__path__):
    if not _module.name.startswith("_"):
        importlib.import_module(f"{__name__}.{_module.name}")
