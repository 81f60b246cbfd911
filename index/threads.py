"""A small shared thread pool for one query's independent pieces of work (segments searched, BM25 parts scored).

FAISS and numpy release the GIL while they scan, so the segments of a large index are searched on several cores at
once; each search still runs one OpenMP thread (index/vectorstores.py `_OneThread`: an OpenMP team waits for a busy
CPU). On the shared 2-core machine, at 1M chunks: dense search over 14 segments 54 -> ms, BM25 -> ms (README).
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

THREADS = min(4, os.cpu_count() or 1)
_pool: ThreadPoolExecutor | None = None
_side: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def each(work: Callable[[T], R], items: Sequence[T]) -> list[R]:
    """`[work(x) for x in items]`, run on the shared pool's threads (in this thread when there is one item or core)."""
    if len(items) < 2 or THREADS < 2:
        return [work(x) for x in items]
    return list(_shared().map(work, items))


def aside(work: Callable[[], R]) -> Future[R]:
    """Start `work` on a thread of its own (not the shared pool's, so the pieces it spreads there cannot wait on it);
    with one thread, run it now."""
    global _side
    if THREADS < 2:
        done: Future[R] = Future()
        done.set_result(work())
        return done
    with _lock:
        if _side is None:
            _side = ThreadPoolExecutor(1, thread_name_prefix="citebot-aside")
        return _side.submit(work)


def _shared() -> ThreadPoolExecutor:
    global _pool
    with _lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(THREADS, thread_name_prefix="citebot-search")
        return _pool
