"""Searching segments (and BM25 parts) on the shared pool, BM25 beside the dense search: the same results as one
thread, with deleted documents too."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from conftest import DOCS
from fakes import HashingEmbedder, hashing_settings, write_docs

import index.search.lexical_topk
import index.threads
from bot import Bot
from index.access import load_index
from index.pipeline import index_paths

QUESTIONS = ["Which planet is the largest?", "Why does bread rise?", "Why do cats sleep so much?", "red iron oxide"]


def _results(index_dir: Path, threads: int) -> list[object]:
    stored = load_index(index_dir)
    bot = Bot.load(settings=hashing_settings(index_dir, query_threads=threads), embedder=HashingEmbedder())
    assert index.threads.THREADS == threads
    out: list[object] = []
    for q in QUESTIONS:
        vector = np.asarray(HashingEmbedder().get_query_embedding(q), dtype=np.float32)
        out += [stored.dense.search(vector, k=10), stored.lexical.search(q, k=10)]
        answer = bot.answer(q)
        out.append((answer.text, [(c.source, c.start, c.end) for c in answer.citations]))
    return out


def test_threads_return_what_one_thread_does(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = tmp_path / "docs"
    for name, text in DOCS.items():  # a segment per pair of files
        write_docs(docs, {name: text, f"more/{name}": text[::-1]})
        index_paths([docs], hashing_settings(tmp_path / "ix"), embedder=HashingEmbedder())
    (docs / "cooking.txt").unlink()
    index_paths([docs], hashing_settings(tmp_path / "ix"), embedder=HashingEmbedder())
    stored = load_index(tmp_path / "ix")
    assert len(stored.manifest["segments"]) > 2 and any(e["dead"] for e in stored.manifest["segments"])
    monkeypatch.setattr(index.search.lexical_topk, "SMALL", 0)
    monkeypatch.setattr(index.search.lexical_topk, "SHARE", 0.0)  # BM25's parts scored on the pool too
    monkeypatch.setattr(index.threads, "THREADS", 1)  # restored after the test
    assert _results(tmp_path / "ix", 2) == _results(tmp_path / "ix", 1)


def test_aside_runs_now_with_one_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    monkeypatch.setattr(index.threads, "THREADS", 1)
    assert index.threads.aside(lambda: threading.current_thread().name).result() == threading.current_thread().name
    monkeypatch.setattr(index.threads, "THREADS", 2)
    assert index.threads.aside(lambda: threading.current_thread().name).result().startswith("citebot-aside")
    assert index.threads.each(lambda x: x * 2, [1, 2, 3]) == [2, 4, 6]
