"""Warm answers over a large index before and after the query1m search paths, interleaved in one process (issue 13).

Usage: python benchmarks/warm_paths.py --index IX [--rounds 7]   (IX: an index built with CITEBOT_EMBED_MODEL=hash,
e.g. scale_replicated.py's WORKDIR/ix-replicated)

"before": BM25 scoring every posting (index/search/lexical.py `BM25`) and the segments searched one after another in one
thread; "after, 1 thread": index/search/lexical_topk.py's `TopKBM25` (MaxScore, fewer passes), still one thread;
"after, N threads": the segments and BM25's parts spread over index/threads.py's pool, BM25 beside the dense search.
Each question is answered every way in turn, so all see the same load; the
answers, citations and BM25 and dense rankings are checked identical. Prints the p50s (answer: wall time; cpu: the
process's CPU time per answer, all threads, which the load of other processes changes less; dense and bm25: wall time
of each search, which overlap "after"), their ratios to "before" and the load average.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from common import median  # noqa: I001
from first_answer import QUESTIONS

import index.threads
from bot import Bot, Settings
from index.search.lexical import BM25


def _timed(obj: Any, into: list[float]) -> Callable[..., Any]:
    real = obj.search

    def search(*args: Any, **kwargs: Any) -> Any:
        started = time.perf_counter()
        out = real(*args, **kwargs)
        into.append(time.perf_counter() - started)
        return out

    return search


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=7)
    args = parser.parse_args()
    bot = Bot.load(settings=Settings.from_env({}, index_dir=args.index, embed_model="hash"))
    stored, threads = bot.stored, max(2, bot.settings.query_threads)
    fast, slow = stored.lexical, BM25(stored.lexical.parts)  # type: ignore[attr-defined]
    ways = {"before": (slow, 1), "after, 1 thread": (fast, 1), f"after, {threads} threads": (fast, threads)}
    times = {w: {"answer": [], "cpu": [], "dense": [], "bm25": []} for w in ways}
    searches = {
        w: (_timed(stored.dense, times[w]["dense"]), _timed(lex, times[w]["bm25"])) for w, (lex, _) in ways.items()
    }
    answers: dict[str, list[object]] = {w: [] for w in ways}
    for q in [QUESTIONS[0]] + QUESTIONS * args.rounds:
        for way, (_, n) in ways.items():
            index.threads.THREADS = n
            stored.dense.search, stored.lexical = searches[way][0], _Searcher(searches[way][1])  # type: ignore[method-assign]
            started, cpu = time.perf_counter(), time.process_time()
            answer = bot.answer(q)
            times[way]["answer"].append(time.perf_counter() - started)
            times[way]["cpu"].append(time.process_time() - cpu)
            answers[way].append((answer.text, [(c.source, c.start, c.end) for c in answer.citations]))
    assert all(a == answers["before"] for a in answers.values()), "the answers differ"
    for q in QUESTIONS:
        assert slow.search(q, k=20) == fast.search(q, k=20), q
    print(
        f"{'ms, p50':10}"
        + "".join(f"{w:>20}" for w in ways)
        + "".join(f"{'ratio ' + str(i + 1):>10}" for i in range(2))
    )
    for part in ("answer", "cpu", "dense", "bm25"):
        p50 = [median(times[w][part][1:]) * 1000 for w in ways]  # the first answer: cold
        print(f"{part:10}" + "".join(f"{v:>20.1f}" for v in p50) + "".join(f"{v / p50[0]:>10.2f}" for v in p50[1:]))
    print(f"{len(stored.chunks)} chunks; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


class _Searcher:
    def __init__(self, search: Callable[..., Any]) -> None:
        self.search = search


if __name__ == "__main__":
    sys.exit(main())
