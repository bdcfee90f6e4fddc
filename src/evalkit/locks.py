"""One run of a campaign at a time.

Two runs of the same campaign at once would publish into the same folders; a
run holds its campaign's lock for each step, and a second run stops at once
with a message naming the first one's process. The lock is an advisory
``flock`` on ``build/locks/<campaign>.lock`` (``msvcrt`` on Windows): the
operating system releases it when the holder exits, however it exits, so a
killed run never leaves a stale lock.

``make report`` holds the lock for its whole sub-make (``python -m evalkit
locked <campaign> -- make ...``) and passes the open lock to its children
through ``EVALKIT_LOCK_FD_<campaign>``; a step that inherits it does not lock
again, while any other run is refused.
"""

from __future__ import annotations

import contextlib
import os
import re
import sys
from collections.abc import Iterator
from pathlib import Path

from evalkit import paths
from evalkit.errors import EvalkitError


class RunInProgressError(EvalkitError):
    """Another run of the same campaign holds its lock."""


def lock_path(name: str) -> Path:
    """The lock file of a campaign (or of the index, ``name='index'``)."""
    return paths.locks_dir() / f"{name}.lock"


def _env_key(name: str) -> str:
    return "EVALKIT_LOCK_FD_" + re.sub(r"[^A-Za-z0-9]", "_", name)


def _inherited(name: str, path: Path) -> bool:
    """True if this process inherited an open descriptor of ``path`` that holds the lock."""
    fd_text = os.environ.get(_env_key(name), "")
    if not fd_text.isdigit():
        return False
    try:
        st_fd, st_path = os.fstat(int(fd_text)), os.stat(path)
    except OSError:
        return False
    return (st_fd.st_dev, st_fd.st_ino) == (st_path.st_dev, st_path.st_ino)


def _try_lock(fh) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        import msvcrt

        try:
            msvcrt.locking(fh.fileno(), msvcrt.LK_NBLCK, 1)
        except OSError:
            return False
        return True
    import fcntl

    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


@contextlib.contextmanager
def campaign_lock(name: str) -> Iterator[int | None]:
    """Hold the lock of ``name`` for the ``with`` block.

    Yields
    ------
    int or None
        The locked file descriptor (inheritable, for a child that should share
        the lock), or None when the lock was inherited from a parent.

    Raises
    ------
    RunInProgressError
        If another run holds the lock; the message gives its process id.
    """
    path = lock_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    if _inherited(name, path):
        yield None
        return
    fh = open(path, "a+", encoding="ascii")  # noqa: SIM115 (closed in finally)
    try:
        if not _try_lock(fh):
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            raise RunInProgressError(
                f"Another run of {name} is in progress (pid {holder}). Wait for it to finish and run "
                f"the command again; two runs of one campaign at once would mix their outputs.")
        fh.seek(0)
        fh.truncate()
        fh.write(f"{os.getpid()}\n")
        fh.flush()
        os.set_inheritable(fh.fileno(), True)
        from evalkit import failpoints

        failpoints.hold("locked", detail=name)
        yield fh.fileno()
    finally:
        fh.close()  # releases the flock


def run_locked(name: str, command: list[str]) -> int:
    """Run ``command`` while holding the lock of ``name``; return its exit code.

    The child (make) and its children inherit the lock. Ctrl-C reaches the
    child through the terminal's process group; this process only waits for it.
    """
    import signal
    import subprocess

    with campaign_lock(name) as fd:
        env = dict(os.environ)
        if fd is not None:
            env[_env_key(name)] = str(fd)
        pass_fds = (fd,) if fd is not None else ()
        proc = subprocess.Popen(command, env=env, pass_fds=pass_fds)
        previous_int = signal.signal(signal.SIGINT, signal.SIG_IGN)
        previous_term = signal.signal(signal.SIGTERM, lambda *_: proc.send_signal(signal.SIGTERM))
        try:
            return proc.wait()
        finally:
            signal.signal(signal.SIGINT, previous_int)
            signal.signal(signal.SIGTERM, previous_term)
