"""Hybrid retrieval: dense (FAISS through llama-index) and BM25, fused by reciprocal rank."""

from __future__ import annotations

import functools
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from index.threads import aside

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from index.store import StoredIndex

RRF_K = 60
# The question's nearest chunk by cosine stays in the top k whatever BM25 says. Measured with benchmarks/quality.py
# (hit@5 of the gold paragraph, SQuAD / TyDi / NQ; plain llama-index 0.951 / 0.995 / 0.981): without the guard
# 0.990 / 0.991 / 0.977, keeping 1 chunk 0.985 / 1.000 / 0.977, keeping 2 0.975 / 1.000 / 0.977.
STRONG_DENSE = 1


@dataclass(frozen=True)
class Query:
    """One retrieval query and its weight in the fusion (follow-ups add a weaker query with context)."""

    text: str
    weight: float = 1.0


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk: its position in the index, fused score, best dense cosine and rank in the question's dense
    ranking (0 = nearest; `pool` when outside it)."""

    chunk: int
    fused: float
    cosine: float
    dense_rank: int = 1_000


class Retriever:
    """Dense + BM25 retrieval over a stored index (both loaded with it: nothing is built on the first question)."""

    def __init__(self, stored: StoredIndex, embedder: BaseEmbedding, *, pool: int = 20) -> None:
        self.stored = stored
        self.embedder = embedder
        self.pool = min(pool, len(stored.chunks))

    def embed(self, text: str) -> np.ndarray:
        """The normalised query vector."""
        return np.asarray(self.embedder.get_query_embedding(text), dtype=np.float32)

    def search(self, queries: Sequence[Query], vectors: Sequence[np.ndarray], *, k: int) -> list[Hit]:
        """Fuse the dense and BM25 rankings of every query; return the top `k` chunks."""
        fused: dict[int, float] = {}
        cosine: dict[int, float] = {}
        order: dict[int, int] = {}
        for query, vector in zip(queries, vectors, strict=True):
            lexical_search = aside(
                functools.partial(self.stored.lexical.search, query.text, k=self.pool)
            )  # beside the dense
            dense = self.stored.dense.search(vector, k=self.pool)
            lexical = lexical_search.result()
            for ranking in (dense, lexical):
                for rank, (row, _) in enumerate(ranking):
                    fused[row] = fused.get(row, 0.0) + query.weight / (RRF_K + rank + 1)
            for row, score in dense:
                cosine[row] = max(cosine.get(row, -1.0), score)
            if not order:
                order = {row: rank for rank, (row, _) in enumerate(dense)}
        ranked = keep_strong_dense(sorted(fused, key=lambda r: (-fused[r], r)), list(order), k=k)
        return [Hit(r, fused[r], cosine.get(r, self._cosine(r, vectors[0])), order.get(r, self.pool)) for r in ranked]

    def _cosine(self, row: int, vector: np.ndarray) -> float:
        """Cosine of a chunk the dense ranking did not return."""
        return float(self.stored.chunk_vectors[row] @ vector)


def keep_strong_dense(fused: list[int], dense: list[int], *, k: int) -> list[int]:
    """The top `k` of the fused ranking, where the question's STRONG_DENSE nearest chunks always stay (in place of
    the lowest fused ones): BM25 may add passages but never push out what plain dense retrieval would show first.

    Example: fused [7, 8, 9, 3], dense [3, 7], k 3 -> [7, 8, 3]
    """
    top = fused[:k]
    for row in dense[:STRONG_DENSE]:
        if row not in top and len(top) == k:
            removable = [r for r in reversed(top) if r not in dense[:STRONG_DENSE]]
            top.remove(removable[0])
        if row not in top:
            top.append(row)
    return top
