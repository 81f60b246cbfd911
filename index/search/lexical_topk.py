"""BM25's top k without scoring every chunk (MaxScore): the same rows and scores as `BM25.search`, found faster.

A chunk's BM25 score is a sum over the query's terms of idf * tf * (k1 + 1) / (tf + norm), each below idf * (k1 + 1).
The rarest terms' chunks are scored exactly (every term looked up in their postings by binary search); a chunk holding
none of them scores at most the sum of the other terms' bounds, so once that sum is below the k-th exact score the
candidates' top k is the top k of all chunks (ties cannot cross: the inequality is strict). Otherwise the next
rarest term joins the candidates. Scores are summed in the same float32 order as `BM25.search`, so they are equal
bit for bit; at 1M chunks this reads a few thousand postings of the common terms instead of all of them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from index.npyfiles import prefetch
from index.search.lexical import BM25, K1, B, Part, tokens
from index.threads import each

MARGIN = 1e-5  # relative: float32 sums of a few terms stay far within it
SMALL = 20_000  # below this many chunks BM25.search itself is as fast (its fewer Python steps win on tiny indexes)
SHARE = 0.03  # past this share of the query's postings as candidates, scoring every posting is cheaper (measured)


@dataclass(frozen=True)
class _Term:
    """A query term: its idf and, per part, the range of its postings (None where the part lacks it)."""

    idf: np.float32
    df: int
    ranges: list[tuple[int, int] | None]


class TopKBM25(BM25):
    """BM25 over the live chunks of several segments, the top k found by MaxScore (see the module docstring)."""

    def __init__(self, parts: Sequence[Part]) -> None:
        super().__init__(parts)
        self._dead = [_dead_rows(p) for p in self.parts]
        self._norms = [K1 * (1 - B + B * np.asarray(p.postings.lengths) / self.mean) for p in self.parts]

    def search(self, text: str, *, k: int) -> list[tuple[int, float]]:
        """The top `k` rows by BM25 score for `text`, best first, ties in row order (exactly BM25.search's)."""
        if self.size < SMALL:
            return super().search(text, k=k)
        found = [t for t in (self._term(term) for term in sorted(set(tokens(text)))) if t is not None]
        if not found or k <= 0:
            return []
        by_df = sorted(range(len(found)), key=lambda i: found[i].df)
        postings = sum(t.df for t in found)
        for used in range(1, len(found) + 1):
            essential = sorted(by_df[:used])
            if sum(found[i].df for i in essential) > SHARE * postings:
                return self._every(found, k)
            rows, scores = self._score(found, essential)
            kth = float(np.partition(scores, len(scores) - k)[len(scores) - k]) if len(scores) >= k else 0.0
            rest = sum(float(found[i].idf) * (K1 + 1) for i in by_df[used:]) * (1 + MARGIN)
            if rest < kth or used == len(found):
                return _top(rows, scores, k)
        raise AssertionError("unreachable")

    def _every(self, found: list[_Term], k: int) -> list[tuple[int, float]]:
        """Score every posting of the query's terms (as BM25.search does, in fewer passes), then take the top k."""
        total = np.zeros(self.size, dtype=np.float32)
        for p, part in enumerate(self.parts):  # read at once, not a page at a time (the maps have no readahead)
            spans = np.array([t.ranges[p] for t in found if t.ranges[p] is not None], dtype=np.int64).reshape(-1, 2)
            prefetch(part.postings.rows, spans[:, 0], spans[:, 1])
            prefetch(part.postings.tf, spans[:, 0], spans[:, 1])
        each(lambda p: self._add_part(p, found, total), range(len(self.parts)))  # parts fill disjoint rows of total
        return _top_of(total, k)

    def _add_part(self, p: int, found: list[_Term], total: np.ndarray) -> None:
        """Add one part's BM25 scores for the query's terms into its rows of `total`, in sorted term order."""
        part, norm = self.parts[p], self._norms[p]
        mine = total[part.offset : part.offset + (len(norm) if part.live is None else len(part.live))]
        for term in found:
            span = term.ranges[p]
            if span is None:
                continue
            rows, tf = part.postings.rows[span[0] : span[1]], part.postings.tf[span[0] : span[1]]
            local = rows
            if part.live is not None:
                where, keep = part.global_rows(rows)
                rows, tf, local = where - part.offset, np.asarray(tf[keep]), rows[keep]
            scores = np.multiply(tf, term.idf)  # idf * tf * (k1 + 1) / (tf + norm), in BM25.search's order
            scores *= np.float32(K1 + 1)
            below = norm[local]
            below += tf
            scores /= below
            mine[rows] += scores

    def _term(self, term: str) -> _Term | None:
        """A term's live document frequency, idf and posting ranges (None if no live chunk holds it)."""
        ranges: list[tuple[int, int] | None] = []
        df = 0
        for part, dead in zip(self.parts, self._dead, strict=True):
            t = part.postings.terms.get(term)
            if t is None:
                ranges.append(None)
                continue
            a, b = int(part.postings.indptr[t]), int(part.postings.indptr[t + 1])
            ranges.append((a, b))
            df += b - a - (_hits(part.postings.rows[a:b], dead) if len(dead) else 0)
        if not df:
            return None
        n = max(self.size, 1)
        idf = np.log(1 + (n - np.array([df]) + 0.5) / (np.array([df]) + 0.5)).astype(np.float32)[0]
        return _Term(idf, df, ranges)

    def _score(self, found: list[_Term], essential: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """(global rows, exact scores) of the live chunks holding an essential term, rows ascending."""
        rows, scores = [], []
        for p, part in enumerate(self.parts):
            local = _candidates(part, [found[i].ranges[p] for i in essential])
            if not len(local):
                continue
            total = np.zeros(len(local), dtype=np.float32)
            lengths = np.asarray(part.postings.lengths[local])
            norm = K1 * (1 - B + B * lengths / self.mean)
            for term in found:  # in sorted term order, as BM25.search adds them
                span = term.ranges[p]
                if span is not None:
                    tf = _lookup(part, span, local)
                    total += (term.idf * tf * (K1 + 1) / (tf + norm)).astype(np.float32)
            rows.append(part.global_rows(local)[0])
            scores.append(total)
        if not rows:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.float32)
        return np.concatenate(rows), np.concatenate(scores)


def _dead_rows(part: Part) -> np.ndarray:
    """A part's deleted local rows, sorted (empty when none is)."""
    if part.live is None:
        return np.zeros(0, dtype=np.int64)
    alive = np.zeros(len(part.postings.lengths), dtype=bool)
    alive[part.live] = True
    return np.flatnonzero(~alive)


def _hits(sorted_rows: np.ndarray, wanted: np.ndarray) -> int:
    """How many of `wanted` are in `sorted_rows`."""
    at = np.searchsorted(sorted_rows, wanted)
    return int(
        np.count_nonzero((at < len(sorted_rows)) & (sorted_rows[np.minimum(at, len(sorted_rows) - 1)] == wanted))
    )


def _candidates(part: Part, ranges: list[tuple[int, int] | None]) -> np.ndarray:
    """The live local rows of `part` in any of the posting `ranges`, sorted."""
    spans = [np.asarray(part.postings.rows[a:b]) for a, b in (r for r in ranges if r is not None)]
    if not spans:
        return np.zeros(0, dtype=np.int64)
    local: np.ndarray = np.unique(np.concatenate(spans)).astype(np.int64)
    return local if part.live is None else local[part.global_rows(local)[1]]


def _lookup(part: Part, span: tuple[int, int], local: np.ndarray) -> np.ndarray:
    """The term frequency in each of the `local` rows (0 where the term is absent) of one term's postings."""
    rows = part.postings.rows[span[0] : span[1]]
    at = np.minimum(np.searchsorted(rows, local), len(rows) - 1)
    present = rows[at] == local
    return np.where(present, part.postings.tf[span[0] + at], np.float32(0)).astype(np.float32)


def _top(rows: np.ndarray, scores: np.ndarray, k: int) -> list[tuple[int, float]]:
    """The `k` best non-zero scores, ties in row order (rows ascending), as lexical.top_rows orders them."""
    keep = np.flatnonzero(scores)
    order = keep[np.argsort(-scores[keep], kind="stable")[:k]]
    return [(int(rows[i]), float(scores[i])) for i in order]


def _top_of(total: np.ndarray, k: int) -> list[tuple[int, float]]:
    """lexical.top_rows(total, k), without sorting or listing every non-zero row: the k-th largest of every 64th
    score is at most the k-th largest of all, so only the rows at or above it can be among the top k."""
    sample = total[:: max(1, len(total) // (64 * max(k, 1)))]
    floor = float(np.partition(sample, len(sample) - k)[len(sample) - k]) if len(sample) >= k else 0.0
    rows = np.flatnonzero(total >= floor) if floor > 0 else np.flatnonzero(total)
    return _top(rows, total[rows], k)
