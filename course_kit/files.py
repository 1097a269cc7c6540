"""Writing a learner's files safely: one lock shared by kernels, atomic replacement, backups.

Used by progress (``progress.json``) and ``%%my_bert`` (``my_bert/*.py``): a file is replaced by
``write_atomic`` (defined once, in ``course_lib.files``, which saved checkpoints use too: a
temporary file beside it, renamed over the old one, so a kernel stopped or a disk filled
mid-write never leaves half a file), under a lock that another kernel writing the same file
waits for (``fcntl`` on a ``.lock`` file; ``msvcrt`` on Windows).
"""

from __future__ import annotations

import contextlib
import os
import time
from pathlib import Path

LOCK_WAIT_SECONDS = 30  # longer than any write takes; a lock held longer is a stuck kernel


@contextlib.contextmanager
def locked(lock_file: Path):
    """Hold the lock on ``lock_file`` (created if need be) for the ``with`` block."""
    handle = open(lock_file, "a+b")  # noqa: SIM115 - closed below, after unlocking
    try:
        _lock(handle)
        yield
    finally:
        _unlock(handle)
        handle.close()


try:
    import fcntl

    def _lock(handle) -> None:
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while True:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                return
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{handle.name} stayed locked for {LOCK_WAIT_SECONDS} s "
                                       "(another kernel is stuck writing it)") from None
                time.sleep(0.01)

    def _unlock(handle) -> None:
        fcntl.flock(handle.fileno(), fcntl.LOCK_UN)

except ImportError:  # Windows
    try:
        import msvcrt

        def _lock(handle) -> None:
            handle.seek(0)
            for _ in range(LOCK_WAIT_SECONDS):  # LK_LOCK itself retries for about a second
                try:
                    msvcrt.locking(handle.fileno(), msvcrt.LK_LOCK, 1)
                    return
                except OSError:
                    continue
            raise TimeoutError(f"{handle.name} stayed locked for {LOCK_WAIT_SECONDS} s")

        def _unlock(handle) -> None:
            handle.seek(0)
            with contextlib.suppress(OSError):
                msvcrt.locking(handle.fileno(), msvcrt.LK_UNLCK, 1)

    except ImportError:  # neither: one kernel at a time is all that is safe
        def _lock(handle) -> None:
            return None

        def _unlock(handle) -> None:
            return None


def keep_beside(path: Path, why: str) -> Path:
    """Rename ``path`` to ``<name>.<why>-<UTC time stamp>`` beside it (nothing is deleted)."""
    stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime())
    target = path.with_name(f"{path.name}.{why}-{stamp}")
    number = 1
    while target.exists():
        number += 1
        target = path.with_name(f"{path.name}.{why}-{stamp}-{number}")
    os.replace(path, target)
    return target
