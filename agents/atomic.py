"""Atomic file writes: every file the project writes appears whole or not at all.

A run is watched (and may be killed) while it trains, so each write goes to a temporary file
``.<name>.<random>.tmp`` in the destination's folder, is flushed to disk (``fsync``), and is moved
into place with ``os.replace``; the folder is then fsynced so the rename itself survives a power
cut. A reader sees the old file or the new one, never half of one. A write that fails (disk full,
I/O error, read-only or forbidden folder) removes its temporary file and raises :class:`WriteError`,
an ``OSError`` whose message names the file. A destination that is a symbolic link is refused:
a run folder received from someone else must not make us write somewhere else.
"""

from __future__ import annotations

import errno as errno_codes
import json
import math
import os
import tempfile
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

#: temporary files are ``.<name>.<random><TEMP_SUFFIX>`` next to their destination
TEMP_SUFFIX = ".tmp"


class WriteError(OSError):
    """Writing a file failed with an operating-system error (ENOSPC, EIO, EROFS, EACCES...)."""

    def __init__(self, path: str | os.PathLike, cause: OSError) -> None:
        super().__init__(cause.errno, cause.strerror or str(cause), str(path))
        self.path = Path(path)

    def __str__(self) -> str:
        return f"cannot write {self.path}: {self.strerror}"


class SymlinkRefusedError(ValueError):
    """A destination (file or folder) that is a symbolic link."""


def refuse_symlink(path: str | os.PathLike) -> Path:
    """``path`` itself must not be a symbolic link (to a file, a folder or nowhere)."""
    path = Path(path)
    if path.is_symlink():
        raise SymlinkRefusedError(f"{path} is a symbolic link; refusing to write through it (remove the link)")
    return path


def write_atomic(path: str | os.PathLike, write: Callable[[str], None]) -> Path:
    """Call ``write(temp_path)``, fsync the temporary file, move it onto ``path``, fsync the folder."""
    path = refuse_symlink(path)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=TEMP_SUFFIX, dir=path.parent)
        os.close(fd)
        write(tmp)
        _fsync_path(tmp)
        os.chmod(tmp, 0o644)            # mkstemp makes owner-only files; results are for everyone to read
        os.replace(tmp, path)
        tmp = None
        _fsync_path(path.parent)
    except OSError as err:
        if isinstance(err, WriteError):
            raise
        raise WriteError(path, err) from err
    finally:
        if tmp is not None:
            _remove_quietly(tmp)
    return path


def write_bytes_atomic(path: str | os.PathLike, data: bytes) -> Path:
    """``data`` to ``path``, atomically."""
    def write(tmp: str) -> None:
        fd = os.open(tmp, os.O_WRONLY | os.O_TRUNC)
        try:
            _write_all(fd, data)
        finally:
            os.close(fd)
    return write_atomic(path, write)


def write_text_atomic(path: str | os.PathLike, text: str) -> Path:
    """``text`` to ``path`` as UTF-8, atomically."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def write_json_atomic(path: str | os.PathLike, data: Any) -> Path:
    """Strict JSON (NaN and infinities become null; NumPy values become Python ones)."""
    return write_text_atomic(path, json.dumps(json_safe(data), indent=2) + "\n")


def remove_leftovers(folders: Iterable[str | os.PathLike]) -> list[Path]:
    """Delete the temporary files (``.<name>.<random>.tmp``) a killed writer left in ``folders``.

    Only for folders no other process is writing (hold the run's lock); returns what was removed.
    """
    removed = []
    for folder in folders:
        folder = Path(folder)
        if folder.is_symlink() or not folder.is_dir():
            continue
        for leftover in folder.glob(f".*{TEMP_SUFFIX}"):
            if leftover.is_file() or leftover.is_symlink():
                try:
                    leftover.unlink()
                except FileNotFoundError:
                    continue
                except OSError as err:
                    raise WriteError(leftover, err) from err
                removed.append(leftover)
    return removed


def _write_all(fd: int, data: bytes) -> None:
    """Every byte of ``data`` to ``fd`` (``os.write`` may write fewer than asked)."""
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _fsync_path(path: str | os.PathLike) -> None:
    """Flush a file's data (``fdatasync``: with what is needed to read it back, its size) or a folder's
    entries (``fsync``) to the disk."""
    folder = os.path.isdir(path)
    try:
        fd = os.open(path, (os.O_RDONLY | getattr(os, "O_DIRECTORY", 0)) if folder else os.O_RDONLY)
    except OSError as err:
        if folder and err.errno in (errno_codes.EACCES, errno_codes.EPERM):
            return                      # e.g. Windows: folders cannot be opened; nothing to flush there
        raise
    try:
        (os.fsync if folder or not hasattr(os, "fdatasync") else os.fdatasync)(fd)
    except OSError as err:
        if err.errno not in (errno_codes.EINVAL, errno_codes.ENOTSUP, errno_codes.EBADF):
            raise                       # EINVAL etc.: this file system cannot fsync a folder
    finally:
        os.close(fd)


def _remove_quietly(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


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
