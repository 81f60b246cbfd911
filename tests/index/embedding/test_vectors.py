"""Chunk and sentence vectors: late chunking over non-overlapping windows, pooling and the fallbacks."""

from __future__ import annotations

import numpy as np
import pytest

from index.documents.chunking import Span
from index.embedding.embeddings import _batches, window_bounds
from index.embedding.vectors import covered_runs, pool_chunks, vectorize

TEXT = "Owls hunt. Cats nap."
CHUNK = Span("a", TEXT, 0, len(TEXT))
OWLS, CATS = Span("a", "Owls hunt.", 0, 10), Span("a", "Cats nap.", 11, 20)
OFFSETS = np.array([[0, 0], [0, 4], [5, 9], [9, 10], [11, 15], [16, 19], [19, 20], [0, 0]])  # [CLS] ... [SEP]
VECS = np.eye(8, 4, dtype=np.float32) + 0.01


def unit(vec: np.ndarray) -> np.ndarray:
    return vec / np.linalg.norm(vec)


def test_covered_runs_read_overlapping_chunks_once() -> None:
    first, second = Span("a", "Owls hunt.", 0, 10), Span("a", "hunt. Cats nap.", 5, 20)
    far = Span("a", "Dogs.", 25, 30)
    (run,) = covered_runs([first, second, far])
    assert (run.source, run.start, run.text) == ("a", 0, "Owls hunt. Cats nap.     Dogs.")


def test_late_vectors_pool_the_window_tokens() -> None:
    chunks, sents, count = vectorize(
        [CHUNK], [OWLS, CATS], [[0, 1]], mode="late", embed=lambda t: np.zeros((0, 4)),
        embed_tokens=lambda texts: [(0, OFFSETS, VECS)] if texts == [TEXT] else [],
    )  # fmt: skip
    assert count == 1
    assert np.allclose(chunks[0], unit(VECS.mean(0))), "a chunk that is the whole window: the model's own embedding"
    assert np.allclose(sents, [unit(VECS[1:4].mean(0)), unit(VECS[4:7].mean(0))]), "a sentence: its own tokens"


def test_a_chunk_across_two_windows_pools_its_tokens_from_both() -> None:
    windows = [(0, OFFSETS[:4], VECS[:4]), (0, OFFSETS[4:], VECS[4:])]  # [CLS] Owls hunt . | Cats nap . [SEP]
    chunks, sents, count = vectorize(
        [CHUNK], [OWLS, CATS], [[0, 1]], mode="late", embed=lambda t: np.zeros((0, 4)), embed_tokens=lambda t: windows
    )
    assert count == 2
    assert np.allclose(chunks[0], unit(VECS.sum(0))), "both windows lie in the chunk: their specials count too"
    assert np.allclose(sents[1], unit(VECS[4:7].mean(0)))
    half = Span("a", "Owls hunt. Cats", 0, 15)
    chunks, _, _ = vectorize(
        [half], [], [[]], mode="late", embed=lambda t: np.zeros((0, 4)), embed_tokens=lambda t: windows
    )
    assert np.allclose(chunks[0], unit(VECS[:5].sum(0))), "the first window's specials, the second's tokens inside"


def test_late_vectorize_embeds_only_what_the_pass_gave_no_token() -> None:
    embedded: list[list[str]] = []

    def embed(texts: list[str]) -> np.ndarray:
        embedded.append(texts)
        return np.ones((len(texts), 4), dtype=np.float32) / 2

    lone = Span("b", "A sentence of a file the model gave no token.", 0, 45)
    chunks, sents, count = vectorize(
        [CHUNK], [OWLS, CATS, lone], [[0, 1], []], mode="late", embed=embed,
        embed_tokens=lambda t: [(0, OFFSETS, VECS)],
    )  # fmt: skip
    assert embedded == [[lone.text]] and count == 2
    assert np.allclose(np.linalg.norm(sents, axis=1), 1.0) and not np.allclose(sents[0], sents[1])


def test_without_token_vectors_everything_is_embedded_on_its_own() -> None:
    def embed(texts: list[str]) -> np.ndarray:
        return np.array([[1.0, 0.0] if t == TEXT else [0.0, 1.0] for t in texts], np.float32)

    chunks, sents, count = vectorize(
        [CHUNK], [OWLS, CATS], [[0, 1]], mode="late", embed=embed, embed_tokens=lambda t: ()
    )
    assert count == 3 and np.allclose(chunks, [[1.0, 0.0]]) and np.allclose(sents, [[0.0, 1.0], [0.0, 1.0]])


@pytest.mark.parametrize("mode,count", [("embed", 3), ("pool", 2)])
def test_embed_and_pool_modes(mode: str, count: int) -> None:
    def embed(texts: list[str]) -> np.ndarray:
        return np.array([[1.0, 0.0] if "Owls" in t and "Cats" not in t else [0.0, 1.0] for t in texts], np.float32)

    chunks, sents, n = vectorize([CHUNK], [OWLS, CATS], [[0, 1]], mode=mode, embed=embed, embed_tokens=None)
    assert n == count and sents.shape == (2, 2)
    expected = [0.0, 1.0] if mode == "embed" else [0.7071, 0.7071]
    assert np.allclose(chunks[0], expected, atol=1e-4)
    assert np.allclose(pool_chunks([[0, 1]], sents, {}), [[0.7071, 0.7071]], atol=1e-4)


def test_late_vectors_do_not_depend_on_the_order_windows_arrive_in() -> None:
    windows = [(0, OFFSETS[:4], VECS[:4]), (0, OFFSETS[4:], VECS[4:])]

    def run(order: list[int]) -> tuple[np.ndarray, np.ndarray, int]:
        return vectorize(
            [CHUNK], [OWLS, CATS], [[0, 1]], mode="late", embed=lambda t: np.zeros((0, 4)),
            embed_tokens=lambda texts: [windows[i] for i in order],
        )  # fmt: skip

    (c1, s1, n1), (c2, s2, n2) = run([0, 1]), run([1, 0])
    assert np.allclose(c1, c2) and np.allclose(s1, s2) and n1 == n2 == 2


def test_windows_are_few_even_and_cut_at_sentence_ends() -> None:
    text = "A b. C d. E f."
    offsets = np.array([[0, 1], [2, 4], [5, 6], [7, 9], [10, 11], [12, 14]])
    assert window_bounds(text, offsets, 4) == [(0, 2), (2, 6)]
    assert window_bounds(text, offsets, 6) == [(0, 6)]
    assert window_bounds("", np.zeros((0, 2), dtype=np.int64), 4) == []
    for n in range(1, 1200, 37):
        words = np.array([[2 * i, 2 * i + 1] for i in range(n)])
        bounds = window_bounds(" ".join("x" * n), words, 254)
        assert bounds[0][0] == 0 and bounds[-1][1] == n and len(bounds) == -(-n // 254)
        assert all(a[1] == b[0] for a, b in zip(bounds, bounds[1:], strict=False))
        assert all(0 < b - a <= 254 for a, b in bounds)


def test_window_batches_hold_a_bounded_count_of_padded_tokens() -> None:
    pieces = [(i, [0] * n, np.zeros((n, 2))) for i, n in enumerate([1, 1, 6, 6, 6])]
    assert [[i for i, _, _ in part] for part in _batches(pieces, 16)] == [[0, 1], [2, 3], [4]]


@pytest.mark.slow
def test_late_chunk_vector_is_the_models_own_embedding() -> None:
    from index.embedding.embeddings import make_embedder, token_embed

    model = make_embedder("sentence-transformers/all-MiniLM-L6-v2")
    late = token_embed(model, progress=False)
    assert late is not None
    ((_, offsets, vecs),) = list(late([TEXT]))
    direct = np.asarray(model.get_text_embedding(TEXT))
    assert np.allclose(unit(vecs.mean(0)), direct, atol=1e-4)
    assert offsets.shape == (len(vecs), 2)
    long = " ".join(f"Sentence number {i} is here." for i in range(200))
    windows = list(late([long]))
    assert len(windows) > 1 and all(len(v) <= 256 for _, _, v in windows)
    starts = sorted(s for _, o, _ in windows for s, e in o if e > s)
    assert len(starts) == len(set(starts)), "every token is read once: the windows do not overlap"
    assert {long[s:e] for _, o, _ in windows for s, e in o if e > s} >= {"Sentence", "199", "."}
