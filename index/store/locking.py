"""One writer at a time per index folder: an exclusive `flock` on `<index_dir>/.write.lock` for a whole update."""

from __future__ import annotations

import fcntl
import os
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TextIO

from index.diskspace import INDEX_ELSEWHERE, guard_writes
from index.errors import IndexBusy

LOCK_FILE = ".write.lock"
_held = threading.local()  # index folders whose lock this thread holds: taking it again is a no-op


@contextmanager
def write_lock(index_dir: Path) -> Iterator[None]:
    """Hold the index's write lock, or raise IndexBusy at once naming the index and the writer's pid.

    The kernel releases a flock when its holder dies (even by SIGKILL), so a killed writer never blocks the next.
    Re-entrant within a thread (a removal holds it from deleting the file to writing the index without it).
    """
    with guard_writes(index_dir, what="the index", other=INDEX_ELSEWHERE):
        index_dir.mkdir(parents=True, exist_ok=True)
    key, held = index_dir.resolve(), _held.__dict__.setdefault("dirs", set())
    if key in held:
        yield
        return
    with _open_lock_file(index_dir) as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            pid = fh.read().strip() or "unknown"
            raise IndexBusy(
                f"Another citebot is indexing {index_dir} (pid {pid}); wait for it to finish, then run this again"
            ) from None
        try:
            _write_pid(index_dir, fh)
            held.add(key)
            yield
        finally:
            held.discard(key)
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _open_lock_file(index_dir: Path) -> TextIO:
    """The lock file, opened for appending; ReadOnly or DiskFull (index/diskspace.py) if it cannot be."""
    with guard_writes(index_dir, what="the index", other=INDEX_ELSEWHERE):
        return open(index_dir / LOCK_FILE, "a+", encoding="utf-8")  # noqa: SIM115 (closed by the caller's with)


def _write_pid(index_dir: Path, fh: TextIO) -> None:
    """Write this process's pid into the held lock file (named in another writer's IndexBusy), unbuffered: on a full
    disk nothing is left to flush when the file is closed."""
    with guard_writes(index_dir, what="the index", other=INDEX_ELSEWHERE):
        os.ftruncate(fh.fileno(), 0)
        os.pwrite(fh.fileno(), str(os.getpid()).encode(), 0)
