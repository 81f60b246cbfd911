"""Warm answers over a large index before and after the query1m search paths, interleaved in one process (issue 13).

Usage: python benchmarks/warm_paths.py --index IX [--rounds 7]   (IX: an index built with CITEBOT_EMBED_MODEL=hash,
e.g. scale_replicated.py's WORKDIR/ix-replicated)

"before": BM25 scoring every posting (index/lexical.py `BM25`) and the segments searched one after another in one
thread; "after": index/lexical_topk.py's `TopKBM25` (MaxScore, fewer passes) and the segments, and BM25's parts,
spread over index/threads.py's pool. Each question is answered both ways in turn, so both see the same load; the
answers, citations and BM25 and dense rankings are checked identical. Prints the p50s, their ratio and the load
average.
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
from index.lexical import BM25


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
    stored, threads = bot.stored, index.threads.THREADS
    fast, slow = stored.lexical, BM25(stored.lexical.parts)  # type: ignore[attr-defined]
    times: dict[str, dict[str, list[float]]] = {w: {"answer": [], "dense": [], "bm25": []} for w in ("before", "after")}
    searches = {w: (_timed(stored.dense, t["dense"]), _timed(lex, t["bm25"])) for w, t, lex in
                (("before", times["before"], slow), ("after", times["after"], fast))}  # fmt: skip
    answers: dict[str, list[object]] = {"before": [], "after": []}
    for q in [QUESTIONS[0]] + QUESTIONS * args.rounds:
        for way in ("before", "after"):
            index.threads.THREADS = 1 if way == "before" else threads
            stored.dense.search, stored.lexical = searches[way][0], _Searcher(searches[way][1])  # type: ignore[method-assign]
            started = time.perf_counter()
            answer = bot.answer(q)
            times[way]["answer"].append(time.perf_counter() - started)
            answers[way].append((answer.text, [(c.source, c.start, c.end) for c in answer.citations]))
    assert answers["before"] == answers["after"], "the answers differ"
    for q in QUESTIONS:
        assert slow.search(q, k=20) == fast.search(q, k=20), q
    print(f"{'':10}{'before ms':>12}{'after ms':>12}{'ratio':>8}")
    for part in ("answer", "dense", "bm25"):
        before, after = (median(times[w][part][1:]) * 1000 for w in ("before", "after"))  # the first: cold
        print(f"{part:10}{before:>12.1f}{after:>12.1f}{after / before:>8.2f}")
    print(f"threads {threads}; load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    return 0


class _Searcher:
    def __init__(self, search: Callable[..., Any]) -> None:
        self.search = search


if __name__ == "__main__":
    sys.exit(main())
