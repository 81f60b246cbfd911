"""Merging segments: which ones (a log-structured policy), and writing the merged segment without re-embedding.

Policy: a segment's level is log8 of its live chunk count (small segments share one level); when 8 adjacent segments
share a level they are merged into one, and a segment with more than half its chunks deleted is rewritten alone. So
the segment count stays logarithmic in the corpus, each chunk is rewritten about once per level, and merging only
adjacent segments keeps rows in the order a single index would have.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.filetable import write_table
from index.lexical import Postings
from index.segments import (
    FAISS_FILE,
    META,
    Segment,
    _save_members,
    _write_json,
    finish,
    save_sentence_keys,
    write_faiss,
)

FACTOR = 8
SMALL = 1000  # segments below 8 * SMALL chunks share the lowest level


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
    keep = [[d for d in range(len(s.sources)) if d not in set(gone)] for s, gone in zip(segments, dead, strict=True)]
    bases = _copy_text(segments, keep, tmp)
    chunk_rows = [_live_rows(s.chunk_spans, k, len(s.sources)) for s, k in zip(segments, keep, strict=True)]
    sent_rows = [_live_rows(s.sentence_spans, k, len(s.sources)) for s, k in zip(segments, keep, strict=True)]
    doc_base = 0
    chunk_tables, sent_tables = [], []
    for s, k, cr, sr, base in zip(segments, keep, chunk_rows, sent_rows, bases, strict=True):
        new_doc = np.full(len(s.sources), -1, dtype=np.int64)
        new_doc[k] = np.arange(len(k)) + doc_base
        chunk_tables.append(_remap(np.asarray(s.chunk_spans[cr]), s, new_doc, base))
        sent_tables.append(_remap(np.asarray(s.sentence_spans[sr]), s, new_doc, base))
        doc_base += len(k)
    np.save(tmp / "chunk-spans.npy", np.concatenate(chunk_tables) if chunk_tables else np.zeros((0, 5), np.int64))
    np.save(tmp / "sentence-spans.npy", np.concatenate(sent_tables) if sent_tables else np.zeros((0, 5), np.int64))
    vectors = _copy_vectors(segments, chunk_rows, tmp / "chunk-vectors.npy", sentences=False)
    _copy_vectors(segments, sent_rows, tmp / "sentence-vectors.npy", sentences=True)
    _save_members(tmp, _members(segments, chunk_rows, sent_rows))
    save_sentence_keys(tmp, np.concatenate([_row_keys(s)[r] for s, r in zip(segments, sent_rows, strict=True)]))
    _merge_postings(segments, chunk_rows).save(tmp)
    _write_json(tmp / "idf.json", _merge_idf(segments, dead_idf))
    write_faiss(tmp / FAISS_FILE, vectors, spec=spec)
    del vectors
    meta: dict[str, Any] = {"chunks": sum(len(r) for r in chunk_rows), "sentences": sum(len(r) for r in sent_rows)}
    meta["faiss"] = spec
    for key in ("sources", "sha256", "indexed_at", "stat"):
        meta[key] = [s.meta[key][d] for s, k in zip(segments, keep, strict=True) for d in k]
    kept = set(meta["sources"])
    meta["locations"] = {src: loc for s in segments for src, loc in s.meta["locations"].items() if src in kept}
    _write_json(tmp / META, meta)
    write_table(tmp, meta["sources"], meta["stat"], meta["sha256"])
    finish(tmp, folder)


def _row_keys(segment: Segment) -> np.ndarray:
    """Each sentence's text key, in row order."""
    keys = np.zeros(segment.sentence_count, dtype=np.uint64)
    keys[segment.sentence_key_rows] = segment.sentence_keys
    return keys


def _live_rows(table: np.ndarray, keep: Sequence[int], docs: int) -> np.ndarray:
    if len(keep) == docs:
        return np.arange(len(table))
    return np.flatnonzero(np.isin(np.asarray(table[:, 0]), np.asarray(keep, dtype=np.int64)))


def _copy_text(segments: Sequence[Segment], keep: Sequence[Sequence[int]], tmp: Path) -> list[np.ndarray]:
    """Copy the kept documents' text into text.bin; per segment, the shift of each old document's bytes."""
    shifts, starts, at = [], [], 0
    with open(tmp / "text.bin", "wb") as out:
        for s, k in zip(segments, keep, strict=True):
            shift = np.zeros(len(s.sources), dtype=np.int64)
            for d in k:
                a, b = int(s.doc_bytes[d]), int(s.doc_bytes[d + 1])
                out.write(bytes(s.blob[a:b]))
                shift[d] = at - a
                starts.append(at)
                at += b - a
            shifts.append(shift)
    np.save(tmp / "docs.npy", np.array([*starts, at], dtype=np.int64))
    return shifts


def _remap(table: np.ndarray, segment: Segment, new_doc: np.ndarray, shift: np.ndarray) -> np.ndarray:
    out = table.copy()
    docs = table[:, 0]
    out[:, 0] = new_doc[docs]
    out[:, 3] += shift[docs]
    out[:, 4] += shift[docs]
    return out


def _copy_vectors(
    segments: Sequence[Segment], rows: Sequence[np.ndarray], path: Path, *, sentences: bool
) -> np.ndarray:
    """Stream the live vectors into one new .npy file; return it memory-mapped."""
    dim = (segments[0].sentence_vectors if sentences else segments[0].chunk_vectors).shape[1]
    out = np.lib.format.open_memmap(path, mode="w+", dtype=np.float32, shape=(sum(len(r) for r in rows), dim))
    at = 0
    for s, r in zip(segments, rows, strict=True):
        source = s.sentence_vectors if sentences else s.chunk_vectors
        for i in range(0, len(r), 65536):
            block = r[i : i + 65536]
            out[at : at + len(block)] = source[block]
            at += len(block)
    out.flush()
    return out


def _members(
    segments: Sequence[Segment], chunk_rows: Sequence[np.ndarray], sent_rows: Sequence[np.ndarray]
) -> list[list[int]]:
    """Each kept chunk's sentences, renumbered among the kept sentences of the merged segment."""
    out: list[list[int]] = []
    base = 0
    for s, cr, sr in zip(segments, chunk_rows, sent_rows, strict=True):
        for row in cr:
            out.append([base + int(i) for i in np.searchsorted(sr, s.chunk_members(int(row)))])
        base += len(sr)
    return out


def _merge_postings(segments: Sequence[Segment], chunk_rows: Sequence[np.ndarray]) -> Postings:
    """Concatenate the segments' postings, kept chunks only, rows renumbered in order.

    A term's postings are its postings in each segment, one segment after another: each segment's are scattered
    into place (no sort of the whole table, so a merge holds little more than its output).
    """
    vocab: dict[str, int] = {}
    parts = []
    base = 0
    for s, rows in zip(segments, chunk_rows, strict=True):
        p = s.postings
        ids = np.array([vocab.setdefault(t, len(vocab)) for t in sorted(p.terms, key=p.terms.__getitem__)], np.int64)
        new_row = np.full(s.chunk_count, -1, dtype=np.int64)
        new_row[rows] = np.arange(len(rows)) + base
        parts.append((ids, new_row))
        base += len(rows)
    counts = np.zeros(len(vocab), dtype=np.int64)
    for s, (ids, new_row) in zip(segments, parts, strict=True):
        term, _, _ = _kept(s.postings, ids, new_row)
        counts += np.bincount(term, minlength=len(vocab))
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    out_rows, out_tf = np.zeros(int(indptr[-1]), np.int32), np.zeros(int(indptr[-1]), np.float32)
    cursor = indptr[:-1].copy()
    for s, (ids, new_row) in zip(segments, parts, strict=True):
        term, row, tf = _kept(s.postings, ids, new_row)
        first = np.concatenate([[True], term[1:] != term[:-1]])  # a term's postings are adjacent, rows ascending
        start = np.maximum.accumulate(np.where(first, np.arange(len(term)), 0))
        where = cursor[term] + np.arange(len(term)) - start
        out_rows[where], out_tf[where] = row, tf
        cursor += np.bincount(term, minlength=len(vocab))
    lengths = np.concatenate([np.asarray(s.postings.lengths)[r] for s, r in zip(segments, chunk_rows, strict=True)])
    return Postings(vocab, indptr, out_rows, out_tf, lengths.astype(np.float32))


def _kept(p: Postings, ids: np.ndarray, new_row: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A segment's postings of kept chunks: (merged term id, merged row, tf), in its own order."""
    term = np.repeat(ids, np.diff(np.asarray(p.indptr)))
    mapped = new_row[np.asarray(p.rows)]
    ok = mapped >= 0
    return term[ok], mapped[ok], np.asarray(p.tf)[ok]


def _merge_idf(segments: Sequence[Segment], dead_idf: Sequence[dict[str, Any]]) -> dict[str, Any]:
    counts: Counter[str] = Counter()
    size = 0
    for s, gone in zip(segments, dead_idf, strict=True):
        counts.update(s.idf["counts"])
        counts.subtract(gone.get("counts", {}))
        size += int(s.idf["size"]) - int(gone.get("size", 0))
    return {"size": size, "counts": {t: c for t, c in counts.items() if c > 0}}
