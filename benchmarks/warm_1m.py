"""Warm answers at 1M chunks before and after the second round of issue 13 (query1m2), interleaved in one process.

Usage: python benchmarks/warm_1m.py --index IX [--rounds 8] [--questions 150]   (IX: scale_replicated.py's
WORKDIR/ix-replicated, built with CITEBOT_EMBED_MODEL=hash)

"before": the first merged segment searched exactly (a 1M build merged it while the index was under FLAT_MAX_N) and
the IVF segments probing 256 lists; "after": every merged segment IVF (index/store/build.py `segment_spec`, applied when
a version is written) probing `nprobe()` lists (128 at 1,448). The segment's other FAISS index is written beside
the index (WORKDIR/aside-*, kept for the next run). Each of first_answer.py's questions is answered both ways in
turn, so both see the same load; prints p50 of wall time, of the process's CPU time and of the dense search. Then,
over the first `--questions` SQuAD dev questions, against exact search (every segment's float32 vectors scanned by
faiss.knn): recall@20 of the dense ranking and how many answers (text and citations) differ.
"""

from __future__ import annotations

import argparse
import os
import re
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
from common import median, read_squad  # noqa: I001
from first_answer import QUESTIONS

from bot import Bot, Settings
from index.search.vectorstores import FaissSearch, ivf_spec, nprobe
from index.store.build import IVF_MIN
from index.store.respec import kind, rewrite_faiss
from index.store.segments import Segment, open_segment


class Exact:
    """Exact inner-product search of a segment's float32 vectors (FAISS's own kernel and tie order)."""

    def __init__(self, segment: Segment) -> None:
        self.vectors = segment.chunk_vectors

    def search(self, vector: np.ndarray, *, k: int) -> list[tuple[int, float]]:
        import faiss

        scores, rows = faiss.knn(vector.reshape(1, -1).astype(np.float32), self.vectors, k, faiss.METRIC_INNER_PRODUCT)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]


Way = list[tuple[Segment, Any, Callable[[int], int]]]  # per segment: its search and the lists an IVF one probes


def old_nprobe(nlist: int) -> int:
    """index/search/vectorstores.py's nprobe before: at least 256 lists."""
    return max(256, round(nlist * 0.064))


def searches(segments: list[Segment], work: Path) -> dict[str, Way]:
    """Per way (before, after, exact), each segment's search."""
    big = [s for s in segments if s.chunk_count >= IVF_MIN]
    ways: dict[str, Way] = {"before": [], "after": [], "exact": []}
    for s in segments:
        ways["exact"].append((s, Exact(s), nprobe))
        ways["before"].append((s, dense(s, "IVF" if s in big[1:] else "Flat", work), old_nprobe))
        ways["after"].append((s, dense(s, "IVF" if s in big else "Flat", work), nprobe))
    return ways


def dense(segment: Segment, wanted: str, work: Path) -> Any:
    """The segment's search with a FAISS index of kind `wanted` (written beside the index if it has the other)."""
    if kind(segment.meta.get("faiss", "Flat")) == wanted:
        return segment.dense
    aside = work / f"aside-{segment.name}-{wanted}"
    if not aside.exists():
        started = time.perf_counter()
        rewrite_faiss(segment, aside, spec=ivf_spec(segment.chunk_count) if wanted == "IVF" else "Flat")
        print(f"{segment.name}: {wanted} written aside in {time.perf_counter() - started:.0f} s", file=sys.stderr)
    return open_segment(aside).dense


def use(way: Way) -> None:
    for segment, search, probes in way:
        segment.__dict__["dense"] = search
        if isinstance(search, FaissSearch):
            search.index.nprobe = probes(search.index.nlist)  # type: ignore[attr-defined]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", required=True, type=Path)
    parser.add_argument("--rounds", type=int, default=8)
    parser.add_argument("--questions", type=int, default=150)
    args = parser.parse_args()
    bot = Bot.load(settings=Settings.from_env({}, index_dir=args.index, embed_model="hash"))
    stored = bot.stored
    ways = searches(stored.dense.layout.segments, args.index.parent)  # type: ignore[attr-defined]
    times: dict[str, dict[str, list[float]]] = {w: {"answer": [], "cpu": [], "dense": []} for w in ("before", "after")}
    for q in [QUESTIONS[0]] + QUESTIONS * args.rounds:
        for way in times:
            use(ways[way])
            started, cpu = time.perf_counter(), time.process_time()
            bot.answer(q)
            times[way]["answer"].append(time.perf_counter() - started)
            times[way]["cpu"].append(time.process_time() - cpu)
            vector = bot.engine.retriever.embed(q)
            started = time.perf_counter()
            stored.dense.search(vector, k=20)
            times[way]["dense"].append(time.perf_counter() - started)
    print(f"{'ms, p50':10}{'before':>12}{'after':>12}{'ratio':>8}")
    for part in ("answer", "cpu", "dense"):
        b, a = (median(times[w][part][2:]) * 1000 for w in times)  # the first round: cold
        print(f"{part:10}{b:>12.1f}{a:>12.1f}{a / b:>8.2f}")
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}", flush=True)
    quality(bot, ways, [q.text for q in read_squad()[1]][: args.questions])
    return 0


def quality(bot: Bot, ways: dict[str, Way], questions: list[str]) -> None:
    """Recall@20 of the dense ranking and answers changed, before and after, against exact search.

    The corpus is ten copies of one (folders c00..c09), so identical chunks tie and an approximate search may rank
    another copy of the same chunk first: each is counted twice, by row and citation, then by content (the copy's
    folder left out of the source).
    """
    vectors = [bot.engine.retriever.embed(q) for q in questions]
    ranked, answers = {}, {}
    for way in ("exact", "before", "after"):
        use(ways[way])
        ranked[way] = [[r for r, _ in bot.stored.dense.search(v, k=20)] for v in vectors]
        answers[way] = [(a.text, [(c.source, c.start, c.end) for c in a.citations]) for a in map(bot.answer, questions)]
    chunks = bot.stored.chunks
    for way in ("before", "after"):
        print(f"{way}: recall@20", end="")
        for what, key in (("rows", lambda r: r), ("content", lambda r: (_uncopied(chunks[r].source), chunks[r].start))):
            print(f" {_recall(ranked[way], ranked['exact'], key):.3f} by {what},", end="")
        strict = sum(a != e for a, e in zip(answers[way], answers["exact"], strict=True))
        content = sum(_content(a) != _content(e) for a, e in zip(answers[way], answers["exact"], strict=True))
        print(f" answers differing from exact search: {strict} of {len(questions)} ({content} by content)")
    moved = sum(a != b for a, b in zip(answers["after"], answers["before"], strict=True))
    print(f"after against before: {moved} of {len(questions)} answers differ")


def _recall(got: list[list[int]], exact: list[list[int]], key: Callable[[int], Any]) -> float:
    """Mean share of the exact top 20 found (as multisets of `key`)."""
    shares = []
    for g, e in zip(got, exact, strict=True):
        found = Counter(key(r) for r in g) & Counter(key(r) for r in e)
        shares.append(sum(found.values()) / max(len(e), 1))
    return float(np.mean(shares))


def _uncopied(source: str) -> str:
    return source.split("/", 1)[-1]


def _content(answer: tuple[str, list[tuple[str, int, int]]]) -> tuple[str, list[tuple[str, int, int]]]:
    return re.sub(r"\bc\d\d/", "", answer[0]), [(_uncopied(s), a, b) for s, a, b in answer[1]]


if __name__ == "__main__":
    sys.exit(main())
