"""Streaming merges: a merge read and written a few rows at a time writes the very bytes of one done in one slice,
and the .npy helpers it streams through write what np.save writes."""

from __future__ import annotations

import filecmp
import json
from pathlib import Path

import numpy as np
import pytest
from conftest import ROOT
from fakes import HashingEmbedder, hashing_settings, write_docs

import index.npyfiles
import index.store.build
import index.store.merging
from index.npyfiles import NpyWriter, release, slices
from index.pipeline import index_paths
from index.store.segments import Segment


def _segments(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Segment]:
    """Forty SQuAD paragraphs as several small segments, none merged."""
    data = json.loads((ROOT / "data" / "squad2-dev-sample.json").read_text(encoding="utf-8"))
    paragraphs = [p["context"] for a in data["data"] for p in a["paragraphs"]][:40]
    paragraphs[3] = "Ünïcode tëxt mövës by bÿtes, nöt by charäcters. " + paragraphs[3]
    docs = write_docs(tmp_path / "docs", {f"p{i:02d}.txt": t for i, t in enumerate(paragraphs)})
    monkeypatch.setattr(index.store.build, "BATCH_CHUNKS", 6)
    monkeypatch.setattr(index.store.merging, "FACTOR", 1000)  # no merge while building
    index_paths([docs], hashing_settings(tmp_path / "ix"), embedder=HashingEmbedder())
    return [Segment(p) for p in sorted((tmp_path / "ix" / "segments").iterdir())]


@pytest.mark.parametrize("spec", ["Flat", "IVF4,SQ8"])
def test_a_merge_in_slices_of_two_rows_writes_the_same_files(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, spec: str
) -> None:
    segments = _segments(tmp_path, monkeypatch)
    assert len(segments) >= 4
    dead = [[0, 2] if i % 2 else [] for i in range(len(segments))]  # deleted documents are dropped as they stream
    idf = [{} for _ in segments]
    index.store.merging.merge(segments, dead, idf, tmp_path / "whole", spec=spec)
    monkeypatch.setattr(index.npyfiles, "SLICE", 2)
    monkeypatch.setattr(index.store.merging, "TEXT_SLICE", 5)
    index.store.merging.merge(segments, dead, idf, tmp_path / "sliced", spec=spec)
    names = sorted(p.name for p in (tmp_path / "whole").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "sliced").iterdir())
    assert [n for n in names if not filecmp.cmp(tmp_path / "whole" / n, tmp_path / "sliced" / n, shallow=False)] == []
    merged = Segment(tmp_path / "sliced")
    assert merged.chunk_count == sum(s.chunk_count for s in segments) - sum(
        len(s.rows_of(s.chunk_spans, d)) for s, d in zip(segments, dead, strict=True)
    )
    first = int(np.flatnonzero(merged.chunk_spans[:, 0] == merged.sources.index("p03.txt"))[0])
    assert merged.span(merged.chunk_spans, first).text.startswith("Ünïcode tëxt")


def test_npy_writer_writes_what_np_save_writes_and_release_keeps_the_data(tmp_path: Path) -> None:
    for array in [np.arange(1000, dtype=np.int64), np.ones((7, 3), np.float32), np.zeros((0, 5), np.int64)]:
        np.save(tmp_path / "saved.npy", array)
        with NpyWriter(tmp_path / "written.npy", array.dtype, array.shape) as out:
            for a, b in slices(len(array), step=3):
                out.write(array[a:b])
        assert (tmp_path / "saved.npy").read_bytes() == (tmp_path / "written.npy").read_bytes()
    mapped = np.lib.format.open_memmap(tmp_path / "m.npy", mode="w+", dtype=np.int64, shape=(100_000,))
    mapped[:] = np.arange(100_000)
    release(mapped[10:20], np.arange(3))  # pages handed back, written data kept in the page cache
    assert int(mapped.sum()) == int(np.arange(100_000).sum())
    with pytest.raises(ValueError, match="2 rows written"), NpyWriter(tmp_path / "short.npy", np.int64, (3,)) as out:
        out.write(np.arange(2))
