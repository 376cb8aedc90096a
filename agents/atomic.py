"""Atomic file writes: every file the project writes appears whole or not at all.

A run is watched (and may be killed) while it trains, so each write goes to a temporary file in
the destination's folder and is moved into place with ``os.replace``: a reader sees the old
file or the new one, never half of one.
"""

from __future__ import annotations

import json
import math
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any


def write_atomic(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Call ``write(temp_path)``, then move the temporary file onto ``path``."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        os.chmod(tmp, 0o644)            # mkstemp makes owner-only files; results are for everyone to read
        os.replace(tmp, path)
    except BaseException:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise
    return path


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    def write(tmp: str) -> None:
        with open(tmp, "w", encoding="utf-8", newline="") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
    return write_atomic(path, write)


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """Strict JSON (NaN and infinities become null; NumPy values become Python ones)."""
    return write_text_atomic(path, json.dumps(json_safe(data), indent=2) + "\n")


def json_safe(value: Any) -> Any:
    """NaN/Inf -> None so the file is strict JSON; NumPy scalars and arrays -> Python."""
    if isinstance(value, dict):
        return {str(k): json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [json_safe(v) for v in value]
    if hasattr(value, "tolist") and getattr(value, "ndim", 0) > 0:
        return json_safe(value.tolist())
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        try:
            value = value.item()
        except (ValueError, TypeError):
            pass
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value
