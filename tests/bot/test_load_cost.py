"""Loading an index and answering its first questions costs the same work whatever the corpus size (issue 11).

The work is counted, not timed: texts tokenized (what building BM25 or the IDF table at load would do, once per chunk
or sentence) and llama-index nodes rebuilt from a docstore (what reading `SimpleDocumentStore.docs` per chunk did,
quadratically). A build of either at load or on the first question makes the large index's count grow with it.
"""

from __future__ import annotations

import random
from pathlib import Path

import pytest
from fakes import HashingEmbedder, hashing_settings, write_docs

QUESTIONS = ["Which word follows alpha?", "When did the gamma event happen?", "How many deltas are there?"]


def _corpus(n_docs: int) -> dict[str, str]:
    """Documents of made-up words (seeded), about two chunks each."""
    rng = random.Random(n_docs)
    words = [f"w{i}" for i in range(3000)] + ["alpha", "gamma", "delta", "event"]
    sentence = lambda: " ".join(rng.choice(words) for _ in range(14)).capitalize() + "."  # noqa: E731
    return {f"doc{i:05d}.txt": " ".join(sentence() for _ in range(28)) for i in range(n_docs)}


def _work(tmp_path: Path, n_docs: int, monkeypatch: pytest.MonkeyPatch) -> tuple[int, int, int]:
    """(chunks, texts tokenized, nodes rebuilt) while loading a Bot and answering QUESTIONS."""
    import llama_index.core.storage.docstore.keyval_docstore as kv

    import index.search.lexical
    from bot import Bot
    from index.pipeline import index_paths

    docs = write_docs(tmp_path / f"docs{n_docs}", _corpus(n_docs))
    settings = hashing_settings(tmp_path / f"ix{n_docs}")
    report, _ = index_paths([docs], settings, embedder=HashingEmbedder())
    counts = {"tokens": 0, "nodes": 0}
    real_tokens, real_json_to_doc = index.search.lexical.tokens, kv.json_to_doc

    def counting_tokens(text: str) -> list[str]:
        counts["tokens"] += 1
        return real_tokens(text)

    def counting_json_to_doc(doc: dict) -> object:  # type: ignore[type-arg]
        counts["nodes"] += 1
        return real_json_to_doc(doc)

    monkeypatch.setattr(index.search.lexical, "tokens", counting_tokens)
    monkeypatch.setattr(kv, "json_to_doc", counting_json_to_doc)
    bot = Bot.load(settings=settings, embedder=HashingEmbedder())
    for q in QUESTIONS:
        bot.answer(q)
    monkeypatch.undo()
    return report.chunks, counts["tokens"], counts["nodes"]


def test_load_and_first_answers_do_not_grow_with_the_corpus(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small_chunks, small_tokens, small_nodes = _work(tmp_path, 60, monkeypatch)
    large_chunks, large_tokens, large_nodes = _work(tmp_path, 1500, monkeypatch)
    assert large_chunks >= 20 * small_chunks >= 2000
    assert small_nodes == large_nodes == 0, "no llama-index node is rebuilt from a docstore"
    # Only the questions and the sentences of their top passages are tokenized, however large the index.
    assert large_tokens <= small_tokens + 10 and large_tokens < 200
