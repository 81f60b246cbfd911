"""Sentence vectors as 8-bit codes: the round trip's error bound, a build writing codes, a merge writing what a build
writes, and segments written before the codes (float32) still read."""

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
import index.store.sentence_codes as sentence_codes
from index.access import load_index
from index.pipeline import index_paths
from index.store.segments import Segment
from index.store.sentence_codes import CODES_FILE, FLOAT_FILE, SentenceVectors, decode, encode


def _unit_rows(n: int, dim: int = 384, seed: int = 0) -> np.ndarray:
    rows = np.random.default_rng(seed).standard_normal((n, dim)).astype(np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_each_component_comes_back_within_half_its_rows_scale() -> None:
    rows = np.concatenate([_unit_rows(500), np.zeros((1, 384), np.float32), -np.eye(1, 384, 7, dtype=np.float32)])
    codes = encode(rows)
    back = decode(codes)
    assert back.dtype == np.float32 and back.shape == rows.shape
    assert (np.abs(back - rows) <= codes["scale"][:, None] / 2 * (1 + 1e-5)).all()
    assert (np.abs(codes["codes"]).max(axis=1)[:-2] == 127).all()  # each row's largest component is +-127 codes
    assert not back[-2].any() and back[-1][7] == -1.0
    query = _unit_rows(1, seed=1)[0]
    assert np.abs(back[:500] @ query - rows[:500] @ query).max() < 2e-3  # cosines move less than the scores' 4th place


def test_the_docstring_example() -> None:
    (record,) = encode(np.array([[0.5, -0.25]], np.float32))
    assert record["scale"] == np.float32(0.5 / 127) and record["codes"].tolist() == [127, -64]
    assert decode(record).shape == (2,)


def test_a_float32_file_is_read_as_it_is(tmp_path: Path) -> None:
    rows = _unit_rows(9)
    np.save(tmp_path / FLOAT_FILE, rows)
    vectors = SentenceVectors.open(tmp_path)
    assert not vectors.coded and vectors.shape == (9, 384) and len(vectors) == 9
    assert (vectors[3] == rows[3]).all() and (vectors[np.array([1, 4])] == rows[[1, 4]]).all()
    assert (vectors.records(np.arange(9)) == encode(rows)).all()


def test_a_codes_file_is_read_as_float32_rows(tmp_path: Path) -> None:
    rows = _unit_rows(9)
    sentence_codes.save_vectors(tmp_path, rows)
    vectors = SentenceVectors.open(tmp_path)
    assert vectors.coded and vectors.shape == (9, 384) and vectors[3].dtype == np.float32
    assert (vectors[3] == decode(encode(rows[3:4]))[0]).all()
    assert (vectors[2:5] == decode(encode(rows))[2:5]).all()


def test_rows_written_a_slice_at_a_time_are_the_bytes_np_save_writes(tmp_path: Path) -> None:
    rows = _unit_rows(10)
    np.save(tmp_path / FLOAT_FILE, rows)
    for name in ("saved", "written"):
        (tmp_path / name).mkdir()
    sentence_codes.save_vectors(tmp_path / "saved", rows)
    vectors = SentenceVectors.open(tmp_path)
    sentence_codes.write_rows(tmp_path / "written", [(vectors, np.arange(4)), (vectors, np.arange(4, 10))])
    assert filecmp.cmp(tmp_path / "saved" / CODES_FILE, tmp_path / "written" / CODES_FILE, shallow=False)


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
    """What a segment written before the codes holds."""
    np.save(folder / FLOAT_FILE, vectors.astype(np.float32))


def test_a_build_writes_codes_and_an_index_written_before_them_still_answers(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = _build(tmp_path, "new", monkeypatch)
    assert len(new) >= 3
    assert all((s.folder / CODES_FILE).exists() and not (s.folder / FLOAT_FILE).exists() for s in new)
    monkeypatch.setattr(index.store.segments, "save_vectors", _save_float32)
    old = _build(tmp_path, "old", monkeypatch)
    assert all((s.folder / FLOAT_FILE).exists() and not (s.folder / CODES_FILE).exists() for s in old)
    for a, b in zip(old, new, strict=True):
        assert (encode(a.sentence_vectors[:]) == b.sentence_vectors.array).all()  # the codes of the same float32
    before, after = load_index(tmp_path / "old"), load_index(tmp_path / "new")
    assert [s.text for s in before.sentences] == [s.text for s in after.sentences]
    rows = range(len(before.sentences))
    assert np.abs(before.sentence_vectors[rows] - after.sentence_vectors[rows]).max() < 0.01
    query = HashingEmbedder().get_query_embedding("When did the Normans conquer England?")
    assert before.dense.search(np.asarray(query, np.float32), k=5) == after.dense.search(
        np.asarray(query, np.float32), k=5
    )


def test_a_merge_of_segments_written_before_the_codes_writes_what_a_build_writes(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    new = _build(tmp_path, "new", monkeypatch)
    monkeypatch.setattr(index.store.segments, "save_vectors", _save_float32)
    old = _build(tmp_path, "old", monkeypatch)
    mixed = [old[0], *new[1:]]  # a float32 segment merged with coded ones
    dead = [[1] if i == 0 else [] for i in range(len(new))]
    idf: list[dict[str, int]] = [{} for _ in new]
    index.store.merging.merge(new, dead, idf, tmp_path / "from-new", spec="Flat")
    index.store.merging.merge(mixed, dead, idf, tmp_path / "from-mixed", spec="Flat")
    assert not (tmp_path / "from-mixed" / FLOAT_FILE).exists()
    assert filecmp.cmp(tmp_path / "from-new" / CODES_FILE, tmp_path / "from-mixed" / CODES_FILE, shallow=False)
