"""A small shared thread pool for one question's independent searches: segments, BM25's parts, BM25 beside dense.

FAISS and numpy release the GIL while they scan, so with THREADS > 1 (CITEBOT_QUERY_THREADS, set by `Bot.load`) the
segments of a large index are searched on several cores at once; each search still runs one OpenMP thread
(index/search/vectorstores.py `_OneThread`: an OpenMP team waits for a busy CPU). The default is one thread, everything
in the asking thread: on a busy 2-core machine two were no faster (docs/large-corpora.md, benchmarks/warm_paths.py).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")

THREADS = 1
_pool: ThreadPoolExecutor | None = None
_side: ThreadPoolExecutor | None = None
_lock = threading.Lock()


def configure(threads: int) -> None:
    """Search with up to `threads` threads per question from now on (at least 1)."""
    global THREADS
    THREADS = max(1, threads)


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


def in_background(work: Callable[[], object]) -> None:
    """Run `work` on a daemon thread of its own (the process need not wait for it to exit)."""
    threading.Thread(target=work, name="citebot-background", daemon=True).start()
