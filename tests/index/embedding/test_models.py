"""Choosing the embedding model: known names, folders, their dimension, and all-mpnet-base-v2 joined from its parts."""

from __future__ import annotations

import json
import zipfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from index.embedding import models
from index.embedding.models import MINILM, MPNET, dimension, known, local_model, unpack_parts
from index.errors import CitebotError

SEEDS = Path(__file__).resolve().parents[3] / "seeds"


def _installed(package: str) -> bool:
    from importlib import metadata

    try:
        metadata.distribution(package)
    except metadata.PackageNotFoundError:
        return False
    return True


needs_mpnet = pytest.mark.skipif(
    not all(_installed(p) for p in models.MPNET_PARTS),
    reason="all-mpnet-base-v2 not installed (make mpnet)",
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("all-MiniLM-L6-v2", MINILM),
        (MINILM, MINILM),
        ("all-mpnet-base-v2", MPNET),
        (MPNET, MPNET),
        ("hash", None),
        ("/models/all-mpnet", None),
        ("", None),
    ],  # fmt: skip
)
def test_known_names(name: str, expected: str | None) -> None:
    assert known(name) == expected


def test_dimension_of_names_folders_and_stand_ins(tmp_path: Path) -> None:
    (tmp_path / "1_Pooling").mkdir()
    (tmp_path / "1_Pooling" / "config.json").write_text(json.dumps({"word_embedding_dimension": 1024}))
    bare = tmp_path / "bare"
    bare.mkdir()
    (bare / "config.json").write_text(json.dumps({"hidden_size": 512}))
    assert (dimension(MINILM), dimension(MPNET)) == (384, 768)
    assert (dimension(str(tmp_path)), dimension(str(bare))) == (1024, 512)
    assert dimension("hash") == dimension("hashing") == 384


def test_other_models_are_used_as_given(tmp_path: Path) -> None:
    assert local_model(MINILM, cache_dir=tmp_path) == MINILM
    assert local_model(str(tmp_path), cache_dir=tmp_path) == str(tmp_path)
    assert not (tmp_path / "models").exists()


def test_a_split_zip_is_joined_and_unpacked(tmp_path: Path) -> None:
    archive = tmp_path / "model.zip"
    with zipfile.ZipFile(archive, "w") as zf:
        zf.writestr("all-mpnet-base-v2/modules.json", "[]")
        zf.writestr("all-mpnet-base-v2/1_Pooling/config.json", "{}")
        zf.writestr("all-mpnet-base-v2/model.safetensors", bytes(range(256)) * 40)
    data = archive.read_bytes()
    parts = []
    for i, start in enumerate(range(0, len(data), 4000)):
        parts.append(tmp_path / f"all-mpnet-base-v2.zip.{i + 1:03d}")
        parts[-1].write_bytes(data[start : start + 4000])
    assert len(parts) >= 3
    unpack_parts(parts, tmp_path / "cache" / "models" / "mpnet")
    folder = tmp_path / "cache" / "models" / "mpnet"
    assert (folder / "modules.json").read_text() == "[]"
    assert (folder / "model.safetensors").read_bytes() == bytes(range(256)) * 40
    assert sorted(p.name for p in folder.parent.iterdir()) == ["mpnet"]  # no temporary folder left


def test_missing_parts_name_the_install_step(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from importlib import metadata

    def missing(name: str) -> None:
        raise metadata.PackageNotFoundError(name)

    monkeypatch.setattr(models.metadata, "distribution", missing)
    with pytest.raises(CitebotError, match="make mpnet"):
        local_model(MPNET, cache_dir=tmp_path)


@pytest.mark.slow
@needs_mpnet
def test_mpnet_indexes_and_answers_offline_through_onnx(tmp_path: Path) -> None:
    """By name: unpacked once into the cache, 768-d index, ONNX query vectors equal to torch's, the seed answer."""
    from bot import Bot, Settings
    from index.embedding.embeddings import make_embedder
    from index.embedding.query_embed import LazyEmbedder, resolve
    from index.pipeline import index_paths

    settings = Settings.from_env({}, embed_model=MPNET, index_dir=tmp_path / "ix", cache_dir=tmp_path / "cache")
    index_paths([SEEDS], settings)
    bot = Bot.load(settings=replace(settings))
    assert bot.stored.manifest["dim"] == 768
    query = bot.engine.retriever.embedder
    assert isinstance(query, LazyEmbedder)
    onnx = resolve(query)
    assert type(onnx).__name__ == "OnnxEmbedder"  # exported at indexing, so no torch on the query path
    question = "Why can't Ukraine join NATO?"
    torch_vector = make_embedder(local_model(MPNET, cache_dir=settings.cache_dir)).get_query_embedding(question)
    assert float(np.dot(onnx.get_query_embedding(question), torch_vector)) > 0.9999
    answer = bot.answer(question)
    assert "territorial integrity" in answer.text and answer.citations
