"""MaxScore BM25 (index/search/lexical_topk.py) returns exactly what scoring every chunk returns: rows, order and
scores."""

from __future__ import annotations

import random

import numpy as np
import pytest

import index.search.lexical_topk
from index.search.lexical import BM25, Part, Postings, top_rows
from index.search.lexical_topk import TopKBM25


@pytest.fixture(autouse=True)
def _any_size(monkeypatch: pytest.MonkeyPatch) -> None:
    """These indexes are small: take TopKBM25's own paths all the same."""
    monkeypatch.setattr(index.search.lexical_topk, "SMALL", 0)


WORDS = [f"word{chr(97 + i // 26)}{chr(97 + i % 26)}" for i in range(300)]


def _texts(rng: random.Random, n: int) -> list[str]:
    """Texts of Zipf-distributed words: a few in most texts, most in few (as in real chunks)."""
    weights = [1 / (i + 1) for i in range(len(WORDS))]
    return [" ".join(rng.choices(WORDS, weights, k=rng.randint(3, 40))) for _ in range(n)]


def _parts(rng: random.Random, *, deletions: bool) -> list[Part]:
    parts, offset = [], 0
    for size in (400, 37, 1, 250, 900):
        postings = Postings.build(_texts(rng, size))
        live = None
        if deletions and size > 1 and rng.random() < 0.7:
            live = np.array(sorted(rng.sample(range(size), size * 2 // 3)), dtype=np.int64)
        parts.append(Part(postings, offset, live))
        offset += size if live is None else len(live)
    return parts


def _queries(rng: random.Random) -> list[str]:
    common, rare = WORDS[:8], WORDS[8:]
    out = [" ".join(rng.sample(common, 2) + rng.sample(rare, rng.randint(0, 4))) for _ in range(60)]
    return out + [" ".join(rng.sample(WORDS, rng.randint(1, 6))) for _ in range(60)] + ["", "nothing matches", "wordaa"]


@pytest.mark.parametrize("share", [index.search.lexical_topk.SHARE, 0.0, 1.0])  # as set; never pruning; always pruning
@pytest.mark.parametrize("deletions", [False, True])
def test_topk_bm25_equals_scoring_every_chunk(deletions: bool, share: float, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(index.search.lexical_topk, "SHARE", share)
    rng = random.Random(7 + deletions)
    parts = _parts(rng, deletions=deletions)
    full, topk = BM25(parts), TopKBM25(parts)
    for query in _queries(rng):
        for k in (1, 5, 20):
            assert topk.search(query, k=k) == full.search(query, k=k), (query, k)


def test_topk_bm25_prunes_common_terms(monkeypatch: pytest.MonkeyPatch) -> None:
    """A query with a rare term scores far fewer chunks than hold its common terms (and falls back past SHARE)."""
    rng = random.Random(3)
    parts = _parts(rng, deletions=False)
    topk = TopKBM25(parts)
    scored: list[int] = []
    real = TopKBM25._score

    def counting(self: TopKBM25, found: list[object], essential: list[int]) -> tuple[np.ndarray, np.ndarray]:
        rows, scores = real(self, found, essential)  # type: ignore[arg-type]
        scored.append(len(rows))
        return rows, scores

    monkeypatch.setattr(TopKBM25, "_score", counting)
    query = f"{WORDS[0]} {WORDS[1]} {WORDS[250]} {WORDS[251]}"
    assert topk.search(query, k=5) == BM25(parts).search(query, k=5)
    assert scored and max(scored) < len(topk.search(WORDS[0], k=10_000)) / 3


def test_top_of_equals_top_rows() -> None:
    rng = np.random.default_rng(5)
    for n, k in [(10_000, 20), (100, 20), (50_000, 1), (3, 10)]:
        total = (rng.random(n) < 0.6) * rng.integers(1, 50, n).astype(np.float32)
        assert index.search.lexical_topk._top_of(total, k) == top_rows(total, k)
