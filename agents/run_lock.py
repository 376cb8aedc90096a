"""An exclusive lock on a run folder, so that two processes never write the same run.

    with RunLock("runs/pd"):           # RunLockedError if another live process holds it
        ...                            # train, or write evaluation/

The lock is an advisory ``flock`` on ``<run>/run.lock``, held as long as its file descriptor is
open: until ``release()``, the end of the ``with`` block, or the death of the process, however it
dies (the kernel drops the lock), so a lock left by a killed process is simply taken over. The
holder writes its pid into the file, which the refused process quotes. The file itself stays in
the folder (deleting it would let two processes lock two different files of the same name).
"""

from __future__ import annotations

import errno
import os
import time
from pathlib import Path
from types import TracebackType

from agents.atomic import WriteError

try:
    import fcntl
except ImportError:                     # Windows
    fcntl = None
    import msvcrt

#: the lock file inside a run folder
LOCK_FILE = "run.lock"


class RunLockedError(RuntimeError):
    """The run folder is locked by another live process."""

    def __init__(self, folder: Path, pid: int | None) -> None:
        holder = f"process {pid}" if pid is not None else "another process (pid not yet written)"
        super().__init__(f"{folder} is in use by {holder}: two processes must not write one run folder; "
                         "wait for it to finish (or stop it), or use another folder")
        self.folder, self.pid = folder, pid


class RunLock:
    """Exclusive lock on the run folder ``folder`` (created if missing)."""

    def __init__(self, folder: str | os.PathLike) -> None:
        self.folder = Path(folder)
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> RunLock:
        """Take the lock or raise RunLockedError naming the folder and the holder's pid."""
        if self._fd is not None:
            raise RuntimeError(f"the lock on {self.folder} is already held by this RunLock")
        path = self.folder / LOCK_FILE
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(path, os.O_RDWR | os.O_CREAT | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0),
                         0o644)
        except OSError as err:
            raise WriteError(path, err) from err
        if not _try_lock(fd):
            pid = _holder_pid(fd)
            os.close(fd)
            raise RunLockedError(self.folder, pid)
        try:
            os.ftruncate(fd, 0)
            os.lseek(fd, 0, os.SEEK_SET)
            os.write(fd, f"{os.getpid()}\n".encode())
        except OSError as err:
            os.close(fd)
            raise WriteError(path, err) from err
        self._fd = fd
        return self

    def release(self) -> None:
        """Drop the lock (closing the descriptor releases it)."""
        if self._fd is not None:
            fd, self._fd = self._fd, None
            os.close(fd)

    def __enter__(self) -> RunLock:
        return self if self.held else self.acquire()

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.release()

    def __del__(self) -> None:
        self.release()


def _try_lock(fd: int) -> bool:
    try:
        if fcntl is not None:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        else:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)
    except OSError as err:
        if err.errno in (errno.EAGAIN, errno.EWOULDBLOCK, errno.EACCES, errno.EDEADLK):   # held by another
            return False
        raise
    return True


def _holder_pid(fd: int, wait_s: float = 1.0) -> int | None:
    """The pid the holder wrote (it writes just after locking: wait a little for it)."""
    deadline = time.monotonic() + wait_s
    while True:
        try:
            text = os.pread(fd, 64, 0) if hasattr(os, "pread") else b""
        except OSError:
            text = b""
        try:
            return int(text.decode("ascii").strip())
        except (UnicodeDecodeError, ValueError):
            pass
        if time.monotonic() >= deadline:
            return None
        time.sleep(0.02)
