"""Hybrid retrieval: dense (FAISS through llama-index) and BM25, fused by reciprocal rank."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from index.store import StoredIndex

RRF_K = 60


@dataclass(frozen=True)
class Query:
    """One retrieval query and its weight in the fusion (follow-ups add a weaker query with context)."""

    text: str
    weight: float = 1.0


@dataclass(frozen=True)
class Hit:
    """A retrieved chunk: its position in the index, fused score and best dense cosine."""

    chunk: int
    fused: float
    cosine: float


class Retriever:
    """Dense + BM25 retrieval over a stored index."""

    def __init__(self, stored: StoredIndex, embedder: BaseEmbedding, *, pool: int = 20) -> None:
        self.stored = stored
        self.embedder = embedder
        self.pool = min(pool, len(stored.chunks))
        self._row = {cid: i for i, cid in enumerate(stored.chunk_ids)}

    @cached_property
    def _dense(self):  # type: ignore[no-untyped-def]
        return self.stored.vector_index.as_retriever(similarity_top_k=self.pool, embed_model=self.embedder)

    @cached_property
    def _bm25(self):  # type: ignore[no-untyped-def]
        from llama_index.retrievers.bm25 import BM25Retriever

        nodes = [self.stored.vector_index.docstore.docs[cid] for cid in self.stored.chunk_ids]
        return BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=self.pool)

    def embed(self, text: str) -> np.ndarray:
        """The normalised query vector."""
        return np.asarray(self.embedder.get_query_embedding(text), dtype=np.float32)

    def search(self, queries: Sequence[Query], vectors: Sequence[np.ndarray], *, k: int) -> list[Hit]:
        """Fuse the dense and BM25 rankings of every query; return the top `k` chunks."""
        from llama_index.core.schema import QueryBundle

        fused: dict[int, float] = {}
        cosine: dict[int, float] = {}
        for query, vector in zip(queries, vectors, strict=True):
            dense = self._dense.retrieve(QueryBundle(query.text, embedding=vector.tolist()))
            lexical = self._bm25.retrieve(query.text) if _has_words(query.text) else []
            for ranking in (dense, lexical):
                for rank, hit in enumerate(ranking):
                    row = self._row[hit.node.node_id]
                    fused[row] = fused.get(row, 0.0) + query.weight / (RRF_K + rank + 1)
            for hit in dense:
                row = self._row[hit.node.node_id]
                cosine[row] = max(cosine.get(row, -1.0), float(hit.score or 0.0))
        ranked = sorted(fused, key=lambda r: (-fused[r], r))[:k]
        return [Hit(r, fused[r], cosine.get(r, self._cosine(r, vectors[0]))) for r in ranked]

    def _cosine(self, row: int, vector: np.ndarray) -> float:
        """Cosine of a chunk the dense ranking did not return."""
        return float(self.stored.chunk_vectors[row] @ vector)


def _has_words(text: str) -> bool:
    """BM25 needs at least one word of two or more characters."""
    return re.search(r"\w\w", text) is not None
