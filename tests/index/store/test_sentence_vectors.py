"""Sentence vectors as float16: the round trip's error bound, a build writing float16, a merge writing what a build
writes, and segments written before (float32) still read."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from fakes import HashingEmbedder, hashing_settings, write_docs

import index.store.build
import index.store.merging
import index.store.segments
import index.store.sentence_vectors as sentence_vectors
from index.access import load_index
from index.pipeline import index_paths
from index.store.reading import CURRENT, MANIFEST
from index.store.segments import Segment
from index.store.sentence_vectors import FILE, FLOAT32_FILE, SentenceVectors, decode, encode


def _unit_rows(n: int, dim: int = 384, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_each_component_comes_back_within_its_float16_rounding() -> None:
    rows = np.concatenate([_unit_rows(500), np.zeros((1, 384), np.float32), -np.eye(1, 384, 7, dtype=np.float32)])
    stored = encode(rows)
    back = decode(stored)
    assert stored.dtype == np.float16 and back.dtype == np.float32 and back.shape == rows.shape
    assert (np.abs(back - rows) <= np.abs(rows) * 2.0**-11 + 2.0**-25).all()  # half a unit in float16's last place
    assert not back[-2].any() and back[-1][7] == -1.0
    assert (decode(encode(back)) == back).all()  # stored again: the same
    query = _unit_rows(1, seed=1)[0]
    assert np.abs(back[:500] @ query - rows[:500] @ query).max() < 1e-3


def test_the_docstring_example() -> None:
    (row,) = encode(np.array([[0.1]], np.float32))
    assert row.dtype == np.float16 and round(float(row[0]), 5) == 0.09998


def test_a_float32_file_is_read_as_it_is(tmp_path: Path) -> None:
    rows = _unit_rows(9)
    np.save(tmp_path / FLOAT32_FILE, rows)
    vectors = SentenceVectors.open(tmp_path)
    assert vectors.array.dtype == np.float32 and vectors.shape == (9, 384) and len(vectors) == 9
    assert (vectors[3] == rows[3]).all() and (vectors[np.array([1, 4])] == rows[[1, 4]]).all()
    assert (vectors.stored(np.arange(9)) == encode(rows)).all()


def test_a_float16_file_is_read_as_float32_rows(tmp_path: Path) -> None:
    rows = _unit_rows(9)
    sentence_vectors.save_vectors(tmp_path, rows)
    vectors = SentenceVectors.open(tmp_path)
    assert vectors.array.dtype == np.float16 and vectors.shape == (9, 384) and vectors[3].dtype == np.float32
    assert (vectors[3] == decode(encode(rows))[3]).all()
    assert (vectors[2:5] == decode(encode(rows))[2:5]).all()


def test_rows_written_a_slice_at_a_time_are_the_bytes_np_save_writes(tmp_path: Path) -> None:
    rows = _unit_rows(10)
    np.save(tmp_path / FLOAT32_FILE, rows)
    for name in ("saved", "written"):
        (tmp_path / name).mkdir()
    sentence_vectors.save_vectors(tmp_path / "saved", rows)
    vectors = SentenceVectors.open(tmp_path)
    sentence_vectors.write_rows(tmp_path / "written", [(vectors, np.arange(4)), (vectors, np.arange(4, 10))])
    assert filecmp.cmp(tmp_path / "saved" / FILE, tmp_path / "written" / FILE, shallow=False)


def _build(tmp_path: Path, name: str, monkeypatch: pytest.MonkeyPatch) -> list[Segment]:
    """Twenty SQuAD paragraphs as several small segments, none merged."""
    data = json.loads((ROOT / "data" / "squad2-dev-sample.json").read_text(encoding="utf-8"))
    paragraphs = [p["context"] for a in data["data"] for p in a["paragraphs"]][:20]
    docs = write_docs(tmp_path / "docs", {f"p{i:02d}.txt": t for i, t in enumerate(paragraphs)})
    monkeypatch.setattr(index.store.build, "BATCH_CHUNKS", 6)
    monkeypatch.setattr(index.store.merging, "FACTOR", 1000)  # no merge while building
    index_paths([docs], hashing_settings(tmp_path / name), embedder=HashingEmbedder())
    return [Segment(p) for p in sorted((tmp_path / name / "segments").iterdir())]


def _save_float32(folder: Path, vectors: np.ndarray) -> None:
    """What a segment written before float16 holds."""
    np.save(folder / FLOAT32_FILE, vectors.astype(np.float32))


def test_a_build_writes_float16_and_an_index_written_before_still_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = _build(tmp_path, "new", monkeypatch)
    assert len(new) >= 3
    assert all((s.folder / FILE).exists() and not (s.folder / FLOAT32_FILE).exists() for s in new)
    monkeypatch.setattr(index.store.segments, "save_vectors", _save_float32)
    old = _build(tmp_path, "old", monkeypatch)
    assert all((s.folder / FLOAT32_FILE).exists() and not (s.folder / FILE).exists() for s in old)
    live = tmp_path / "old" / json.loads((tmp_path / "old" / CURRENT).read_text(encoding="utf-8"))
    manifest = json.loads((live / MANIFEST).read_text(encoding="utf-8"))
    (live / MANIFEST).write_text(json.dumps({**manifest, "format": 4}), encoding="utf-8")  # as written before
    for a, b in zip(old, new, strict=True):
        assert (encode(a.sentence_vectors[:]) == b.sentence_vectors.array).all()  # the float16 of the same float32
    before, after = load_index(tmp_path / "old"), load_index(tmp_path / "new")
    assert [s.text for s in before.sentences] == [s.text for s in after.sentences]
    rows = range(len(before.sentences))
    assert np.abs(before.sentence_vectors[rows] - after.sentence_vectors[rows]).max() < 0.01
    query = HashingEmbedder().get_query_embedding("When did the Normans conquer England?")
    assert before.dense.search(np.asarray(query, np.float32), k=5) == after.dense.search(
        np.asarray(query, np.float32), k=5
    )


def test_a_merge_of_segments_written_before_writes_what_a_build_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = _build(tmp_path, "new", monkeypatch)
    monkeypatch.setattr(index.store.segments, "save_vectors", _save_float32)
    old = _build(tmp_path, "old", monkeypatch)
    mixed = [old[0], *new[1:]]  # a float32 segment merged with float16 ones
    dead = [[1] if i == 0 else [] for i in range(len(new))]
    idf: list[dict[str, int]] = [{} for _ in new]
    index.store.merging.merge(new, dead, idf, tmp_path / "from-new", spec="Flat")
    index.store.merging.merge(mixed, dead, idf, tmp_path / "from-mixed", spec="Flat")
    assert not (tmp_path / "from-mixed" / FLOAT32_FILE).exists()
    assert filecmp.cmp(tmp_path / "from-new" / FILE, tmp_path / "from-mixed" / FILE, shallow=False)
