"""Chunk and sentence vectors: late chunking, pooling and the fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from index.chunking import Span
from index.vectors import pool_chunks, pool_span, vectorize

TEXT = "Owls hunt. Cats nap."
CHUNK = Span("a", TEXT, 0, len(TEXT))
OWLS, CATS = Span("a", "Owls hunt.", 0, 10), Span("a", "Cats nap.", 11, 20)
OFFSETS = np.array([[0, 0], [0, 4], [5, 9], [9, 10], [11, 15], [16, 19], [19, 20], [0, 0]])  # [CLS] ... [SEP]
VECS = np.eye(8, 4, dtype=np.float32) + 0.01


def test_pool_span_averages_the_sentence_tokens_only() -> None:
    owls = pool_span(OWLS, CHUNK, OFFSETS, VECS)
    assert owls is not None and np.allclose(owls, VECS[1:4].mean(0) / np.linalg.norm(VECS[1:4].mean(0)))
    assert pool_span(Span("a", "Owls hunt. Cats", 0, 15), Span("a", "Cats nap.", 11, 20), OFFSETS, VECS) is None
    cut = OFFSETS.copy()
    cut[4:] = 0  # the model stopped reading before "Cats nap."
    assert pool_span(CATS, CHUNK, cut, VECS) is None


def test_late_vectorize_embeds_only_what_no_chunk_holds() -> None:
    embedded: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        embedded.append(texts)
        return np.ones((len(texts), 4), dtype=np.float32) / 2

    lone = Span("a", "A sentence longer than its chunk.", 30, 63)
    chunks, sents, count = vectorize(
        [CHUNK], [OWLS, CATS, lone], [[0, 1]], mode="late", embed=embed, embed_tokens=lambda t: [(0, OFFSETS, VECS)]
    )
    assert embedded == [[lone.text]] and count == 2
    assert np.allclose(chunks[0], VECS.mean(0) / np.linalg.norm(VECS.mean(0)))
    assert np.allclose(np.linalg.norm(sents, axis=1), 1.0) and not np.allclose(sents[0], sents[1])


@pytest.mark.parametrize("mode,count", [("embed", 3), ("pool", 2)])
def test_embed_and_pool_modes(mode: str, count: int) -> None:
    def embed(texts: list[str]) -> np.ndarray:
        return np.array([[1.0, 0.0] if "Owls" in t and "Cats" not in t else [0.0, 1.0] for t in texts], np.float32)

    chunks, sents, n = vectorize([CHUNK], [OWLS, CATS], [[0, 1]], mode=mode, embed=embed, embed_tokens=None)
    assert n == count and sents.shape == (2, 2)
    expected = [0.0, 1.0] if mode == "embed" else [0.7071, 0.7071]
    assert np.allclose(chunks[0], expected, atol=1e-4)
    assert np.allclose(pool_chunks([[0, 1]], sents, {}), [[0.7071, 0.7071]], atol=1e-4)


@pytest.mark.slow
def test_late_chunk_vector_is_the_models_own_embedding() -> None:
    from index.embeddings import make_embedder, token_embed

    model = make_embedder("sentence-transformers/all-MiniLM-L6-v2")
    late = token_embed(model, progress=False)
    assert late is not None
    ((_, offsets, vecs),) = list(late([TEXT]))
    mean = vecs.mean(0)
    direct = np.asarray(model.get_text_embedding(TEXT))
    assert np.allclose(mean / np.linalg.norm(mean), direct, atol=1e-4)
    assert offsets.shape == (len(vecs), 2)


def test_late_vectors_do_not_depend_on_the_order_chunks_arrive_in() -> None:
    second = Span("a", TEXT, 0, len(TEXT))  # a second chunk holding the same sentences, with other token vectors
    other = np.roll(VECS, 1, axis=1)

    def run(order: list[int]) -> tuple[np.ndarray, np.ndarray, int]:
        encoded = {0: (0, OFFSETS, VECS), 1: (1, OFFSETS, other)}
        return vectorize(
            [CHUNK, second], [OWLS, CATS], [[0, 1], [0, 1]], mode="late", embed=lambda t: np.zeros((0, 4)),
            embed_tokens=lambda texts: [encoded[i] for i in order],
        )  # fmt: skip

    (c1, s1, n1), (c2, s2, n2) = run([0, 1]), run([1, 0])
    assert np.allclose(c1, c2) and np.allclose(s1, s2) and n1 == n2 == 2
    assert np.allclose(s1[0], pool_span(OWLS, CHUNK, OFFSETS, VECS)), "the first chunk in order holds the sentence"
