"""Chunk and sentence vectors for new documents, three ways (the `chunk_vectors` setting).

- "late" (default): the model reads each document's text once, in windows of up to its 256 tokens that do not
  overlap; a chunk's vector is the mean of its tokens' embeddings in that pass (a chunk that is a whole window also
  counts the window's [CLS] and [SEP], so it is exactly sentence-transformers' own embedding of it) and a sentence's
  the mean of its own tokens' ("late chunking"). Texts the pass gave no token are embedded on their own. Costs about
  one encode of the documents' text: chunks overlap, windows don't.
- "embed": chunks and sentences embedded separately: twice the model work, the best retrieval.
- "pool": sentences embedded, chunk vectors pooled from them: one encode, weaker passage retrieval.
Their cost is measured by `python benchmarks/indexing.py --modes late,embed,pool` (docs/performance.md#indexing).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from index.documents.chunking import Span

Embed = Callable[[list[str]], np.ndarray]
# Per window of a text, in any order, several per text: (the text's position, char offsets of its tokens in the
# text, token vectors). A special token ([CLS], [SEP]) has an empty offset pair.
TokenEmbed = Callable[[list[str]], Iterable[tuple[int, np.ndarray, np.ndarray]]]
MODES = ("late", "embed", "pool")


def vectorize(
    chunks: Sequence[Span],
    sentences: Sequence[Span],
    inside: Sequence[Sequence[int]],
    *,
    mode: str,
    embed: Embed,
    embed_tokens: TokenEmbed | None,
) -> tuple[np.ndarray, np.ndarray, int]:
    """Vectors for `chunks` and `sentences` (`inside[i]`: the sentences mostly inside chunk i); also the count of
    texts the model read."""
    if mode == "late" and embed_tokens is not None and chunks:
        return _late(chunks, sentences, embed, embed_tokens)
    own = [i for i, members in enumerate(inside) if mode != "pool" or not members]
    texts = [s.text for s in sentences] + [chunks[i].text for i in own]
    vectors = embed(texts) if texts else np.zeros((0, 1), dtype=np.float32)
    own_vecs = dict(zip(own, vectors[len(sentences) :], strict=True))
    return pool_chunks(inside, vectors[: len(sentences)], own_vecs), vectors[: len(sentences)], len(texts)


@dataclass(frozen=True)
class Run:
    """A stretch of one source that its chunks cover, as one text (gaps between chunks read as spaces)."""

    source: str
    start: int
    text: str


def covered_runs(chunks: Sequence[Span]) -> list[Run]:
    """The text of each source as its chunks hold it: overlaps read once, so each token is embedded once.

    Example: "Owls hunt." at 0 and "hunt. Cats nap." at 5 -> Run(start=0, text="Owls hunt. Cats nap.")
    """
    by_source: dict[str, list[Span]] = {}
    for chunk in chunks:
        by_source.setdefault(chunk.source, []).append(chunk)
    runs = []
    for source, spans in by_source.items():
        start = min(s.start for s in spans)
        text = [" "] * (max(s.end for s in spans) - start)
        for s in spans:
            text[s.start - start : s.end - start] = s.text
        runs.append(Run(source, start, "".join(text)))
    return runs


class _Sums:
    """Running sums of token vectors per span, and how many tokens each got."""

    def __init__(self, spans: Sequence[Span], runs: Sequence[Run]) -> None:
        self.sums: np.ndarray | None = None
        self.counts = np.zeros(len(spans), dtype=np.int64)
        where = {run.source: r for r, run in enumerate(runs)}
        members: list[list[int]] = [[] for _ in runs]
        for i, span in enumerate(spans):
            if span.source in where:
                members[where[span.source]].append(i)
        self.members = [np.array(m, dtype=np.int64) for m in members]
        self.starts = [np.array([spans[i].start for i in m], dtype=np.int64) for m in members]
        self.ends = [np.array([spans[i].end for i in m], dtype=np.int64) for m in members]

    def add(self, run: int, window: _Window, *, whole_window_specials: bool) -> None:
        """Add the window's tokens inside each span of `run` (and its special tokens to a span holding all of it)."""
        if self.sums is None:
            self.sums = np.zeros((len(self.counts), window.real.shape[1]), dtype=np.float32)
        starts, ends = self.starts[run], self.ends[run]
        for k in np.flatnonzero((starts < window.hi) & (ends > window.lo)):
            a = int(np.searchsorted(window.starts, starts[k], "left"))
            b = int(np.searchsorted(window.ends, ends[k], "right"))
            i, n = self.members[run][k], max(b - a, 0)
            if n:
                self.sums[i] += window.real[a:b].sum(axis=0)
            if whole_window_specials and starts[k] <= window.lo and ends[k] >= window.hi:
                self.sums[i] += window.specials_sum
                n += window.specials
            self.counts[i] += n

    def vectors(self, dim: int) -> np.ndarray:
        """Unit vectors of the sums (zero rows where a span got no token)."""
        if self.sums is None:
            return np.zeros((len(self.counts), dim), dtype=np.float32)
        norms = np.maximum(np.linalg.norm(self.sums, axis=1, keepdims=True), 1e-12)
        unit: np.ndarray = (self.sums / norms).astype(np.float32)
        return unit


@dataclass(frozen=True)
class _Window:
    """One window's real tokens (absolute offsets, sorted) and the sum of its special tokens' vectors."""

    starts: np.ndarray
    ends: np.ndarray
    real: np.ndarray
    specials_sum: np.ndarray
    specials: int
    lo: int
    hi: int

    @staticmethod
    def of(offsets: np.ndarray, vecs: np.ndarray, shift: int) -> _Window | None:
        real = offsets[:, 1] > offsets[:, 0]
        if not real.any():
            return None
        starts, ends = offsets[real, 0] + shift, offsets[real, 1] + shift
        special = vecs[~real]
        return _Window(starts, ends, vecs[real], special.sum(axis=0), len(special), int(starts[0]), int(ends[-1]))


def _late(
    chunks: Sequence[Span], sentences: Sequence[Span], embed: Embed, tokens: TokenEmbed
) -> tuple[np.ndarray, np.ndarray, int]:
    """Chunk and sentence vectors pooled from one streamed pass over the text the chunks cover; whatever got no
    token is embedded on its own."""
    runs = covered_runs(chunks)
    chunk_sums, sent_sums = _Sums(chunks, runs), _Sums(sentences, runs)
    windows, dim = 0, 0
    for r, offsets, vecs in tokens([run.text for run in runs]):
        windows, dim = windows + 1, vecs.shape[1]
        window = _Window.of(np.asarray(offsets), np.asarray(vecs, dtype=np.float32), runs[r].start)
        if window is not None:
            chunk_sums.add(r, window, whole_window_specials=True)
            sent_sums.add(r, window, whole_window_specials=False)
    chunk_vecs, sent_vecs = chunk_sums.vectors(dim or 1), sent_sums.vectors(dim or 1)
    lone_chunks = np.flatnonzero(chunk_sums.counts == 0).tolist()
    lone_sents = np.flatnonzero(sent_sums.counts == 0).tolist()
    texts = [chunks[i].text for i in lone_chunks] + [sentences[i].text for i in lone_sents]
    if texts:
        own = embed(texts)
        if not dim:
            chunk_vecs = np.zeros((len(chunks), own.shape[1]), dtype=np.float32)
            sent_vecs = np.zeros((len(sentences), own.shape[1]), dtype=np.float32)
        chunk_vecs[lone_chunks] = own[: len(lone_chunks)]
        sent_vecs[lone_sents] = own[len(lone_chunks) :]
    return chunk_vecs, sent_vecs, windows + len(texts)


def pool_chunks(inside: Sequence[Sequence[int]], sentence_vecs: np.ndarray, own: dict[int, np.ndarray]) -> np.ndarray:
    """Chunk vectors: their own embedding where given in `own`, else the normalised mean of their sentences'.

    Example: sentences [1, 0] and [0, 1] in one chunk -> [0.707, 0.707]
    """
    dim = sentence_vecs.shape[1] if len(sentence_vecs) else len(next(iter(own.values()), []))
    out = np.zeros((len(inside), dim), dtype=np.float32)
    for i, members in enumerate(inside):
        out[i] = _unit(own[i] if i in own else sentence_vecs[list(members)].mean(axis=0))
    return out


def _unit(vec: np.ndarray) -> np.ndarray:
    return vec / max(float(np.linalg.norm(vec)), 1e-12)
