"""Merging segments: which ones (a log-structured policy), and writing the merged segment without re-embedding.

Policy: a segment's level is log8 of its live chunk count (small segments share one level); when 8 adjacent segments
share a level they are merged into one, and a segment with more than half its chunks deleted is rewritten alone. So
the segment count stays logarithmic in the corpus, each chunk is rewritten about once per level, and merging only
adjacent segments keeps rows in the order a single index would have.

A merge streams: every file of the merged segment is written a slice of rows at a time (index/npyfiles.py), its
inputs read through their maps a slice at a time and their pages handed back, so its memory does not grow with the
size of what it merges (but for the IVF index of a large merge, about 0.4 kB per chunk; index/store/merge_postings.py
for the BM25 postings and the sentence keys).
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.npyfiles import NpyWriter, release, slices
from index.store.filetable import write_table
from index.store.merge_postings import Part, write_postings, write_sentence_keys
from index.store.segments import FAISS_FILE, LOCATIONS, META, Segment, _write_json, finish, write_faiss
from index.store.sentence_vectors import write_rows

FACTOR = 8
SMALL = 1000  # segments below 8 * SMALL chunks share the lowest level
TEXT_SLICE = 1 << 24  # bytes of text copied at a time


def level(chunks: int) -> int:
    """The merge level of a segment of `chunks` live chunks: 0 below 8,000 chunks, then one per factor of 8.

    Example: level(3) == level(7_999) == 0; level(16_384) == 1 (a batch of a large build); level(131_072) == 2
    """
    return int(math.log(max(chunks, SMALL) / SMALL, FACTOR))


def plan(sizes: Sequence[int], dead: Sequence[int]) -> list[int] | None:
    """The first run of adjacent segments to merge (indices), given live and deleted chunks per segment; None if none.

    Example: plan([100_000] + [10] * 8, [0] * 9) -> [1, 2, ..., 8]; plan([10, 10], [0, 30]) -> [1]
    """
    for i, (n, d) in enumerate(zip(sizes, dead, strict=True)):
        if d > n:
            return [i]
    run: list[int] = []
    for i, n in enumerate(sizes):
        if run and level(n) != level(sizes[run[0]]):
            run = []
        run.append(i)
        if len(run) == FACTOR:
            return run
    return None


def merge(segments: Sequence[Segment], dead: Sequence[Sequence[int]], dead_idf: Sequence[dict[str, Any]],
          folder: Path, *, spec: str) -> None:  # fmt: skip
    """Write the live documents of `segments` (in order) as one new segment at `folder`."""
    tmp = folder.parent / f".tmp-{folder.name}"
    tmp.mkdir(parents=True)
    for s in segments:  # read through, a slice at a time: with readahead, even if a reader here asked for none
        s.read_randomly(False)
    parts = _parts(segments, dead)
    _copy_text(parts, tmp)
    for kind in ("chunk", "sentence"):
        _write_spans(parts, tmp / f"{kind}-spans.npy", sentences=kind == "sentence")
    _copy_vectors(parts, tmp / "chunk-vectors.npy")
    write_rows(tmp, [(p.segment.sentence_vectors, p.sent_rows) for p in parts])
    _write_members(parts, tmp)
    write_sentence_keys(parts, tmp)
    write_postings(parts, tmp)
    _write_json(tmp / "idf.json", _merge_idf(segments, dead_idf))
    write_faiss(tmp / FAISS_FILE, np.load(tmp / "chunk-vectors.npy", mmap_mode="r"), spec=spec)
    meta: dict[str, Any] = {"chunks": sum(len(p.chunk_rows) for p in parts)}
    meta["sentences"] = sum(len(p.sent_rows) for p in parts)
    meta["faiss"] = spec
    for key in ("sources", "sha256", "indexed_at", "stat"):
        meta[key] = [p.segment.meta[key][d] for p in parts for d in p.keep.tolist()]
    kept = set(meta["sources"])
    meta["locations"] = {src: loc for s in segments for src, loc in s.locations.items() if src in kept}
    _write_json(tmp / META, meta)
    _write_json(tmp / LOCATIONS, meta["locations"])
    write_table(tmp, meta["sources"], meta["stat"], meta["sha256"])
    finish(tmp, folder)


def _parts(segments: Sequence[Segment], dead: Sequence[Sequence[int]]) -> list[Part]:
    parts, docs, chunks, sentences = [], 0, 0, 0
    for s, gone in zip(segments, dead, strict=True):
        keep = np.setdiff1d(np.arange(len(s.sources), dtype=np.int64), np.asarray(gone, dtype=np.int64))
        new_doc = np.full(len(s.sources), -1, dtype=np.int64)
        new_doc[keep] = np.arange(len(keep)) + docs
        cr = _live_rows(s.chunk_spans, keep, s.chunk_count, len(s.sources))
        sr = _live_rows(s.sentence_spans, keep, s.sentence_count, len(s.sources))
        parts.append(Part(s, keep, cr, sr, chunks, sentences, new_doc, np.zeros(len(s.sources), np.int64)))
        docs, chunks, sentences = docs + len(keep), chunks + len(cr), sentences + len(sr)
    return parts


def _live_rows(table: np.ndarray, keep: np.ndarray, rows: int, docs: int) -> np.ndarray:
    if len(keep) == docs:
        return np.arange(rows)
    live = [np.flatnonzero(np.isin(table[a:b, 0], keep)) + a for a, b in slices(rows)]
    release(table)
    return np.concatenate(live).astype(np.int64) if live else np.zeros(0, np.int64)


def _copy_text(parts: Sequence[Part], tmp: Path) -> None:
    """Copy the kept documents' text into text.bin (and their byte ranges into docs.npy), setting each part's shift."""
    starts, at = [], 0
    with open(tmp / "text.bin", "wb") as out:
        for p in parts:
            bounds = np.asarray(p.segment.doc_bytes, dtype=np.int64)
            sizes = bounds[p.keep + 1] - bounds[p.keep]
            new_start = at + np.cumsum(sizes) - sizes
            p.shift[p.keep] = new_start - bounds[p.keep]
            for a, b in _byte_runs(bounds, p.keep):
                for lo, hi in slices(b - a, step=TEXT_SLICE):
                    out.write(p.segment.blob[a + lo : a + hi].tobytes())
                    release(p.segment.blob)
            starts += new_start.tolist()
            at += int(sizes.sum())
    np.save(tmp / "docs.npy", np.array([*starts, at], dtype=np.int64))


def _byte_runs(bounds: np.ndarray, keep: np.ndarray) -> list[tuple[int, int]]:
    """The byte ranges of the runs of consecutive documents in `keep`."""
    if not len(keep):
        return []
    breaks = np.flatnonzero(np.diff(keep) != 1) + 1
    firsts, lasts = keep[np.concatenate([[0], breaks])], keep[np.concatenate([breaks - 1, [len(keep) - 1]])]
    return list(zip(bounds[firsts].tolist(), bounds[lasts + 1].tolist(), strict=True))


def _write_spans(parts: Sequence[Part], path: Path, *, sentences: bool) -> None:
    """The live spans, their documents renumbered and their byte offsets shifted as the text moved."""
    total = sum(len(p.sent_rows if sentences else p.chunk_rows) for p in parts)
    with NpyWriter(path, np.int64, (total, 5)) as out:
        for p in parts:
            table = p.segment.sentence_spans if sentences else p.segment.chunk_spans
            rows = p.sent_rows if sentences else p.chunk_rows
            for a, b in slices(len(rows)):
                block = np.array(table[rows[a:b]], dtype=np.int64)
                docs = block[:, 0].copy()
                block[:, 0] = p.new_doc[docs]
                block[:, 3:5] += p.shift[docs][:, None]
                out.write(block)
                release(table)


def _copy_vectors(parts: Sequence[Part], path: Path) -> None:
    """The live chunk vectors, a slice at a time."""
    total = sum(len(p.chunk_rows) for p in parts)
    with NpyWriter(path, np.float32, (total, parts[0].segment.chunk_vectors.shape[1])) as out:
        for p in parts:
            source, rows = p.segment.chunk_vectors, p.chunk_rows
            for a, b in slices(len(rows)):
                out.write(source[rows[a:b]])
                release(source)


def _write_members(parts: Sequence[Part], tmp: Path) -> None:
    """Each kept chunk's sentences (CSR, as segments._save_members), renumbered among the merged sentences."""
    total = sum(int(_member_ranges(p, p.chunk_rows[a:b])[1].sum()) for p in parts for a, b in slices(len(p.chunk_rows)))
    chunks = sum(len(p.chunk_rows) for p in parts)
    with (
        NpyWriter(tmp / "chunk-sentences-indptr.npy", np.int64, (chunks + 1,)) as indptr,
        NpyWriter(tmp / "chunk-sentences.npy", np.int64, (total,)) as members,
    ):
        indptr.write(np.zeros(1, np.int64))
        at = 0
        for p in parts:
            for a, b in slices(len(p.chunk_rows)):
                starts, sizes = _member_ranges(p, p.chunk_rows[a:b])
                indptr.write(at + np.cumsum(sizes))
                at += int(sizes.sum())
                where = np.repeat(starts - (np.cumsum(sizes) - sizes), sizes) + np.arange(int(sizes.sum()))
                members.write(np.searchsorted(p.sent_rows, p.segment.members[where]) + p.sent_base)
                release(p.segment.members)


def _member_ranges(p: Part, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where the sentences of chunks `rows` start in the part's members table, and how many each has."""
    indptr = p.segment.members_indptr
    starts = np.asarray(indptr[rows], dtype=np.int64)
    return starts, np.asarray(indptr[rows + 1], dtype=np.int64) - starts


def _merge_idf(segments: Sequence[Segment], dead_idf: Sequence[dict[str, Any]]) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    size = 0
    for s, gone in zip(segments, dead_idf, strict=True):
        counts.update(s.idf["counts"])
        counts.subtract(gone.get("counts", {}))
        size += int(s.idf["size"]) - int(gone.get("size", 0))
    return {"size": size, "counts": {t: c for t, c in counts.items() if c > 0}}
