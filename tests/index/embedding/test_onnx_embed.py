"""The ONNX query embedder: same vectors as torch, and a safe fall back when its export is missing or broken."""

from __future__ import annotations

import json
import logging
import os
import random
import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from bot.config import EMBED_MODEL
from index.embedding import onnx_embed
from index.embedding.onnx_embed import OnnxEmbedder, mean_pool, onnx_files
from index.embedding.query_embed import LazyEmbedder, make_query_embedder, resolve

ROOT = Path(__file__).resolve().parents[3]


def test_mean_pool_ignores_padding_and_normalises() -> None:
    tokens = np.array([[[3.0, 4.0], [9.0, 9.0]], [[1.0, 0.0], [1.0, 2.0]]])
    pooled = mean_pool(tokens, np.array([[1, 0], [1, 1]]))
    assert np.allclose(pooled, [[0.6, 0.8], [0.7071068, 0.7071068]])


def test_export_folder_is_keyed_by_the_model_files(tmp_path: Path) -> None:
    model = tmp_path / "model"
    model.mkdir()
    (model / "model.safetensors").write_bytes(b"weights")
    first = onnx_files(tmp_path / "cache", model, name="sentence-transformers/all-MiniLM-L6-v2")
    assert first.folder.parent == tmp_path / "cache" / "onnx" and first.folder.name.startswith("all-MiniLM-L6-v2-")
    assert onnx_files(tmp_path / "cache", model, name="sentence-transformers/all-MiniLM-L6-v2") == first
    (model / "model.safetensors").write_bytes(b"other weights")
    assert onnx_files(tmp_path / "cache", model, name="sentence-transformers/all-MiniLM-L6-v2") != first


def test_a_stand_in_model_goes_to_the_torch_side(hashing_model: None, tmp_path: Path) -> None:
    embedder = make_query_embedder("hashing", cache_dir=tmp_path)
    assert not isinstance(embedder, OnnxEmbedder)
    assert not (tmp_path / "onnx").exists()


class Unit:
    def get_query_embedding(self, query: str) -> list[float]:
        return [1.0]


def test_lazy_embedder_loads_once_in_the_background_or_on_first_use() -> None:
    loads: list[str] = []

    def load() -> Unit:
        loads.append("x")
        return Unit()

    for background in (True, False):
        loads.clear()
        lazy = LazyEmbedder(load, background=background)
        assert [lazy.get_query_embedding("q") for _ in range(3)] == [[1.0]] * 3
        assert loads == ["x"]


def test_queries_go_on_while_an_upload_loads_the_torch_model() -> None:
    started, release = threading.Event(), threading.Event()

    def slow_indexer() -> str:
        started.set()
        release.wait(5)
        return "torch"

    lazy = LazyEmbedder(Unit, background=False, indexer=slow_indexer)
    lazy.get_query_embedding("q")
    upload = threading.Thread(target=lazy.indexing_model)
    upload.start()
    assert started.wait(5)
    assert lazy.get_query_embedding("q") == [1.0] and upload.is_alive()
    release.set()
    upload.join(5)
    assert lazy.indexing_model() == "torch"


def test_lazy_embedder_raises_its_load_error_on_every_query() -> None:
    def load() -> Unit:
        raise RuntimeError("no model")

    lazy = LazyEmbedder(load, background=True)
    for _ in range(2):
        with pytest.raises(RuntimeError, match="no model"):
            lazy.get_query_embedding("q")


def test_exports_abandoned_by_dead_processes_are_removed(tmp_path: Path) -> None:
    files = onnx_embed.OnnxFiles(tmp_path / "onnx" / "m-abc")
    dead, alive = tmp_path / "onnx" / ".tmp-m-abc-999999999-1", tmp_path / "onnx" / f".tmp-m-abc-{os.getpid()}-2"
    for folder in (dead, alive):
        folder.mkdir(parents=True)
    onnx_embed._drop_abandoned(files)
    assert not dead.exists() and alive.exists()


# --- with the real model -------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def torch_embedder() -> Any:
    from index.embedding.embeddings import make_embedder

    return make_embedder(EMBED_MODEL, threads=1)


@pytest.fixture(scope="session")
def onnx_embedder(tmp_path_factory: pytest.TempPathFactory) -> OnnxEmbedder:
    embedder = resolve(make_query_embedder(EMBED_MODEL, cache_dir=tmp_path_factory.mktemp("onnx-cache")))
    assert isinstance(embedder, OnnxEmbedder)
    return embedder


def varied_texts() -> list[str]:
    """Questions and whole paragraphs (many over 256 tokens) from SQuAD, seed sentences, and odd inputs."""
    squad = json.loads((ROOT / "data" / "squad2-dev-sample.json").read_text(encoding="utf-8"))["data"]
    paragraphs = [p for article in squad for p in article["paragraphs"]]
    questions = [qa["question"] for p in paragraphs for qa in p["qas"]]
    seed = " ".join(path.read_text(encoding="utf-8") for path in sorted((ROOT / "seeds").glob("*.txt")))
    odd = ["", "   ", "?", "NATO", "  padded question?  ", "Émoji 🎉 ünïcode 日本語 العربية", "a\x00b\tc\nd",
           "word " * 600, "x" * 5000, seed[:20000]]  # fmt: skip
    return random.Random(15).sample(questions, 250) + [p["context"] for p in paragraphs] + seed.split(". ") + odd


@pytest.mark.slow
def test_onnx_vectors_match_torch(torch_embedder: Any, onnx_embedder: OnnxEmbedder) -> None:
    texts = varied_texts()
    assert len(texts) >= 300
    for text in texts:
        want = np.asarray(torch_embedder.get_query_embedding(text), dtype=np.float32)
        got = onnx_embedder.get_query_embedding(text)
        assert got.shape == (384,) and abs(float(np.linalg.norm(got)) - 1) < 1e-5
        assert float(got @ want) >= 0.9999, text[:80]


def _damage(files: onnx_embed.OnnxFiles, how: str) -> None:
    if how == "missing":
        files.model.unlink()
    elif how == "garbage":
        files.model.write_bytes(os.urandom(4096))
    elif how == "truncated":
        files.model.write_bytes(files.model.read_bytes()[: files.model.stat().st_size // 2])
    elif how == "wrong weights":  # a graph that loads but whose vectors are not the model's
        meta = json.loads(files.meta.read_text(encoding="utf-8"))
        meta["vector"] = np.roll(meta["vector"], 1).tolist()
        files.meta.write_text(json.dumps(meta), encoding="utf-8")


@pytest.mark.slow
@pytest.mark.parametrize("how", ["missing", "garbage", "truncated", "wrong weights"])
def test_a_broken_export_falls_back_to_torch_with_one_notice(
    how: str, torch_embedder: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    first = resolve(make_query_embedder(EMBED_MODEL, cache_dir=tmp_path))  # exports into the empty cache
    assert isinstance(first, OnnxEmbedder)
    _damage(onnx_embed.OnnxFiles(first.path.parent), how)

    def refuse(*args: object, **kwargs: object) -> None:
        raise OSError("read-only file system")

    monkeypatch.setattr(onnx_embed, "export_onnx", refuse)
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="index.embedding.query_embed"):
        pending = make_query_embedder(EMBED_MODEL, cache_dir=tmp_path)
        assert isinstance(pending, LazyEmbedder)  # the export looks present: checked in the background
        fallback = pending.resolve()
    assert not isinstance(fallback, OnnxEmbedder)
    question = "Why can't Ukraine join NATO?"
    assert np.allclose(fallback.get_query_embedding(question), torch_embedder.get_query_embedding(question))
    [record] = caplog.records
    assert "\n" not in record.getMessage() and "answering with torch" in record.getMessage()


@pytest.mark.slow
def test_a_broken_export_is_replaced_when_torch_can_export(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    first = resolve(make_query_embedder(EMBED_MODEL, cache_dir=tmp_path))
    assert isinstance(first, OnnxEmbedder)
    first.path.write_bytes(b"not a graph")
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="index.embedding.query_embed"):
        again = resolve(make_query_embedder(EMBED_MODEL, cache_dir=tmp_path))
    assert isinstance(again, OnnxEmbedder)
    [record] = caplog.records
    assert "unreadable" in record.getMessage() and "exported" in record.getMessage()
    question = "Why can't Ukraine join NATO?"
    assert float(again.get_query_embedding(question) @ first.get_query_embedding(question)) > 0.9999
