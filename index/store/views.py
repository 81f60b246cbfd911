"""An index version seen as one index: the live rows of its segments numbered 0..n-1, read lazily.

Row order is segment order, then row order within a segment, deleted rows left out: the order a single index of the
same documents (older ones first) would have, so ties break the same way. Sequences read one row at a time from the
memory-mapped segments; nothing is loaded for the whole corpus except small per-segment arrays of live rows.
"""

from __future__ import annotations

import bisect
from collections import Counter
from collections.abc import Iterator, Sequence
from typing import Any, overload

import numpy as np

from index.documents.chunking import Span
from index.search.lexical import BM25, Part, Vocabulary
from index.search.lexical_topk import TopKBM25
from index.store.segments import Segment
from index.store.sentence_vectors import SentenceVectors
from index.threads import each


class Layout:
    """Global live rows over segments: for chunks and sentences, each segment's first global row and live rows."""

    def __init__(self, segments: Sequence[Segment], dead: Sequence[Sequence[int]]) -> None:
        self.segments = list(segments)
        self.dead = [list(d) for d in dead]  # per segment: its deleted documents
        self.chunk_live = [self._live(s, s.chunk_spans, d) for s, d in zip(self.segments, self.dead, strict=True)]
        self.sentence_live = [self._live(s, s.sentence_spans, d) for s, d in zip(self.segments, self.dead, strict=True)]
        self.chunk_offsets = _offsets([s.chunk_count for s in self.segments], self.chunk_live)
        self.sentence_offsets = _offsets([s.sentence_count for s in self.segments], self.sentence_live)

    @staticmethod
    def _live(segment: Segment, table: np.ndarray, dead: Sequence[int]) -> np.ndarray | None:
        if not dead:
            return None
        return np.flatnonzero(~np.isin(np.asarray(table[:, 0]), np.asarray(dead, dtype=np.int64)))

    def locate(self, row: int, *, sentences: bool = False) -> tuple[int, int]:
        """(segment, local row) of a global chunk (or sentence) row."""
        offsets, live = (
            (self.sentence_offsets, self.sentence_live) if sentences else (self.chunk_offsets, self.chunk_live)
        )
        if not 0 <= row < offsets[-1]:
            raise IndexError(row)
        seg = bisect.bisect_right(offsets, row) - 1
        local = row - offsets[seg]
        rows = live[seg]
        return seg, int(rows[local]) if rows is not None else local

    def global_sentences(self, seg: int, local: np.ndarray) -> list[int]:
        """Global rows of a segment's local sentence rows (all live: they belong to a live chunk)."""
        live, base = self.sentence_live[seg], self.sentence_offsets[seg]
        if live is None:
            return [base + int(i) for i in local]
        return [base + int(i) for i in np.searchsorted(live, local)]

    def global_rows(self, seg: int, local: np.ndarray, *, sentences: bool = False) -> list[int]:
        """Global rows of a segment's local rows, those deleted left out."""
        live = (self.sentence_live if sentences else self.chunk_live)[seg]
        base = (self.sentence_offsets if sentences else self.chunk_offsets)[seg]
        if live is None:
            return [base + int(r) for r in local]
        at = np.searchsorted(live, local)
        return [base + int(a) for a, r in zip(at, local, strict=True) if a < len(live) and live[a] == r]

    def local_rows(self, seg: int, *, sentences: bool = False) -> np.ndarray:
        """A segment's live local rows, in order."""
        live = (self.sentence_live if sentences else self.chunk_live)[seg]
        s = self.segments[seg]
        return live if live is not None else np.arange(s.sentence_count if sentences else s.chunk_count)


def find_sentence(layout: Layout, text: str) -> list[int]:
    """Global rows of the live sentences whose text is `text`, in order (a key lookup per segment, no scan)."""
    found: list[int] = []
    for seg, segment in enumerate(layout.segments):
        rows = segment.sentences_with_text(text)
        if rows:
            found += layout.global_rows(seg, np.array(rows, dtype=np.int64), sentences=True)
    return found


def _offsets(counts: Sequence[int], live: Sequence[np.ndarray | None]) -> list[int]:
    out = [0]
    for n, rows in zip(counts, live, strict=True):
        out.append(out[-1] + (n if rows is None else len(rows)))
    return out


class Spans(Sequence[Span]):
    """The live chunks (or sentences) of a version, as a read-only sequence of Spans.

    The last CACHED spans read are kept: answering reads the same passages' sentences again and again.
    """

    CACHED = 50_000

    def __init__(self, layout: Layout, *, sentences: bool) -> None:
        self.layout, self.sentences = layout, sentences
        self._recent: dict[int, Span] = {}

    def __len__(self) -> int:
        return (self.layout.sentence_offsets if self.sentences else self.layout.chunk_offsets)[-1]

    @overload
    def __getitem__(self, i: int) -> Span: ...

    @overload
    def __getitem__(self, i: slice) -> list[Span]: ...

    def __getitem__(self, i: int | slice) -> Span | list[Span]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        i = i + len(self) if i < 0 else i
        if i not in self._recent:
            if len(self._recent) >= self.CACHED:
                self._recent.clear()
            seg, local = self.layout.locate(i, sentences=self.sentences)
            segment = self.layout.segments[seg]
            self._recent[i] = segment.span(segment.sentence_spans if self.sentences else segment.chunk_spans, local)
        return self._recent[i]

    def __iter__(self) -> Iterator[Span]:
        """Every span in order, each document's text decoded once."""
        for seg, segment in enumerate(self.layout.segments):
            table = segment.sentence_spans if self.sentences else segment.chunk_spans
            doc, text = -1, ""
            for d, start, end, _, _ in table[self.layout.local_rows(seg, sentences=self.sentences)].tolist():
                if d != doc:
                    doc, text = d, segment.document_text(d)
                yield Span(segment.sources[d], text[start:end], start, end)


class Vectors:
    """The live chunk (or sentence) vectors of a version: `v[i]` a row, `v[[i, j]]` rows, memory-mapped."""

    def __init__(self, layout: Layout, *, sentences: bool, dim: int) -> None:
        self.layout, self.sentences, self.dim = layout, sentences, dim

    def __len__(self) -> int:
        return (self.layout.sentence_offsets if self.sentences else self.layout.chunk_offsets)[-1]

    @property
    def shape(self) -> tuple[int, int]:
        return len(self), self.dim

    def _matrix(self, seg: int) -> np.ndarray | SentenceVectors:
        s = self.layout.segments[seg]
        return s.sentence_vectors if self.sentences else s.chunk_vectors

    def __getitem__(self, i: Any) -> np.ndarray:
        if isinstance(i, (int, np.integer)):
            seg, local = self.layout.locate(int(i) + len(self) if i < 0 else int(i), sentences=self.sentences)
            return np.asarray(self._matrix(seg)[local])
        rows = list(range(*i.indices(len(self)))) if isinstance(i, slice) else [int(r) for r in i]
        return np.array([self[r] for r in rows], dtype=np.float32).reshape(len(rows), self.dim)

    def __iter__(self) -> Iterator[np.ndarray]:
        for seg in range(len(self.layout.segments)):
            matrix = self._matrix(seg)
            for local in self.layout.local_rows(seg, sentences=self.sentences):
                yield np.asarray(matrix[int(local)])


class ChunkSentences(Sequence[list[int]]):
    """For each live chunk, the global rows of the sentences mostly inside it."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def __len__(self) -> int:
        return self.layout.chunk_offsets[-1]

    @overload
    def __getitem__(self, i: int) -> list[int]: ...

    @overload
    def __getitem__(self, i: slice) -> list[list[int]]: ...

    def __getitem__(self, i: int | slice) -> list[int] | list[list[int]]:
        if isinstance(i, slice):
            return [self[j] for j in range(*i.indices(len(self)))]
        seg, local = self.layout.locate(i + len(self) if i < 0 else i)
        return self.layout.global_sentences(seg, self.layout.segments[seg].chunk_members(local))


class Dense:
    """Nearest live chunks over every segment's FAISS index: (global row, cosine), best first, ties by row."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout

    def search(self, vector: np.ndarray, *, k: int) -> list[tuple[int, float]]:
        found = [hit for hits in each(lambda seg: self._segment(seg, vector, k), range(len(self.layout.segments)))
                 for hit in hits]  # fmt: skip
        return sorted(found, key=lambda hit: (-hit[1], -hit[0]))[:k]  # ties: as FAISS orders them, later rows first

    def _segment(self, seg: int, vector: np.ndarray, k: int) -> list[tuple[int, float]]:
        """A segment's nearest live chunks, as (global row, cosine)."""
        segment = self.layout.segments[seg]
        live = self.layout.chunk_live[seg]
        dead = 0 if live is None else segment.chunk_count - len(live)
        hits = segment.dense.search(vector, k=min(k + dead, segment.chunk_count)) if segment.chunk_count else []
        base = self.layout.chunk_offsets[seg]
        if live is None:
            return [(base + local, score) for local, score in hits]
        found = []
        for local, score in hits:
            at = int(np.searchsorted(live, local))
            if at < len(live) and live[at] == local:
                found.append((base + at, score))
        return found


def lexical(layout: Layout) -> BM25:
    """BM25 over the live chunks, scored with statistics of the whole version (its top k found by MaxScore)."""
    parts = [Part(s.postings, layout.chunk_offsets[i], layout.chunk_live[i]) for i, s in enumerate(layout.segments)]
    return TopKBM25(parts)


def vocabulary(layout: Layout, dead_counts: Sequence[dict[str, Any]]) -> Vocabulary:
    """Sentence IDF over the live sentences: each segment's counts, less those of its deleted documents."""
    counts: Counter[str] = Counter()
    size = 0
    for segment, dead in zip(layout.segments, dead_counts, strict=True):
        counts.update(segment.idf["counts"])
        size += int(segment.idf["size"])
        if dead:
            counts.subtract(dead.get("counts", {}))
            size -= int(dead.get("size", 0))
    return Vocabulary({t: c for t, c in counts.items() if c > 0}, size)
