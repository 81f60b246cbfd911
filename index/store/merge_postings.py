"""The parts of a merged segment that interleave its inputs: the BM25 postings (term by term) and the sorted sentence
keys, each written a slice at a time (index/store/merging.py writes the rest)."""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np

from index.npyfiles import NpyWriter, open_reserved, release, slices

if TYPE_CHECKING:
    from index.store.segments import Segment


@dataclass
class Part:
    """One input of a merge: its kept documents and live rows, and where they go in the merged segment."""

    segment: Segment
    keep: np.ndarray  # kept documents, ascending
    chunk_rows: np.ndarray  # live local chunk rows, ascending
    sent_rows: np.ndarray
    chunk_base: int  # the merged row of its first live chunk
    sent_base: int
    new_doc: np.ndarray  # per local document, its merged number (-1 if deleted)
    shift: np.ndarray  # per local document, how far its bytes move in text.bin (set by _copy_text)


def write_sentence_keys(parts: Sequence[Part], tmp: Path) -> None:
    """`sentence-keys.npy` and `sentence-key-rows.npy` (as segments.save_sentence_keys writes them), merged from the
    parts' own sorted keys a block at a time: ties in key keep row order, so the order is by (key, row)."""
    total = sum(len(p.sent_rows) for p in parts)
    streams = [_key_blocks(p) for p in parts]
    heads: list[tuple[np.ndarray, np.ndarray] | None] = [next(s, None) for s in streams]
    with (
        NpyWriter(tmp / "sentence-keys.npy", np.uint64, (total,)) as keys_out,
        NpyWriter(tmp / "sentence-key-rows.npy", np.int64, (total,)) as rows_out,
    ):
        while any(h is not None for h in heads):
            live = [h for h in heads if h is not None]
            key, row = min((int(k[-1]), int(r[-1])) for k, r in live)  # every pair up to this one is buffered
            taken = []
            for i, h in enumerate(heads):
                if h is None:
                    continue
                k, r = h
                n = int(np.count_nonzero((k < np.uint64(key)) | ((k == np.uint64(key)) & (r <= row))))
                taken.append((k[:n], r[:n]))
                heads[i] = (k[n:], r[n:]) if n < len(k) else next(streams[i], None)
            keys, rows = np.concatenate([t[0] for t in taken]), np.concatenate([t[1] for t in taken])
            order = np.lexsort((rows, keys))
            keys_out.write(keys[order])
            rows_out.write(rows[order])


def _key_blocks(p: Part) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """A part's live sentences as (key, merged row) blocks, sorted by key then row; no empty block."""
    keys, rows = p.segment.sentence_keys, p.segment.sentence_key_rows
    every = len(p.sent_rows) == p.segment.sentence_count
    for a, b in slices(len(keys)):
        k, r = np.array(keys[a:b], dtype=np.uint64), np.array(rows[a:b], dtype=np.int64)
        release(keys, rows)
        if not every:
            at = np.searchsorted(p.sent_rows, r)
            live = (at < len(p.sent_rows)) & (p.sent_rows[np.minimum(at, len(p.sent_rows) - 1)] == r)
            k, r = k[live], at[live]
        if len(k):
            yield k, r + p.sent_base


def write_postings(parts: Sequence[Part], tmp: Path) -> None:
    """The parts' BM25 postings of kept chunks as one segment's (the files Postings.save writes): a term's postings
    are its postings in each part, one part after another, rows renumbered. Two passes over each part's postings, a
    slice at a time: count each term's postings, then write each slice's into place."""
    vocab: dict[str, int] = {}
    ids = []
    for p in parts:
        terms = p.segment.postings.terms
        ids.append(np.array([vocab.setdefault(t, len(vocab)) for t in sorted(terms, key=terms.__getitem__)], np.int64))
    counts = np.zeros(len(vocab), dtype=np.int64)
    for p, local in zip(parts, ids, strict=True):
        for term, _, _ in _kept(p, local):
            starts, sizes = _runs(term)
            counts[term[starts]] += sizes
    indptr = np.concatenate([[0], np.cumsum(counts)]).astype(np.int64)
    (tmp / "bm25-terms.json").write_text(json.dumps(list(vocab), ensure_ascii=False), encoding="utf-8")
    np.save(tmp / "bm25-indptr.npy", indptr)
    out_rows = open_reserved(tmp / "bm25-rows.npy", np.int32, (int(indptr[-1]),))
    out_tf = open_reserved(tmp / "bm25-tf.npy", np.float32, (int(indptr[-1]),))
    cursor = indptr[:-1].copy()
    for p, local in zip(parts, ids, strict=True):
        for term, row, tf in _kept(p, local):
            starts, sizes = _runs(term)
            where = cursor[term] + np.arange(len(term)) - np.repeat(starts, sizes)
            out_rows[where], out_tf[where] = row, tf
            cursor[term[starts]] += sizes
            release(out_rows, out_tf)
    del out_rows, out_tf
    with NpyWriter(tmp / "bm25-lengths.npy", np.float32, (sum(len(p.chunk_rows) for p in parts),)) as lengths:
        for p in parts:
            for a, b in slices(len(p.chunk_rows)):
                lengths.write(p.segment.postings.lengths[p.chunk_rows[a:b]])
                release(p.segment.postings.lengths)


def _kept(p: Part, ids: np.ndarray) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """A part's postings of kept chunks, a slice at a time: (merged term id, merged row, tf), in its own order."""
    post = p.segment.postings
    indptr = np.asarray(post.indptr, dtype=np.int64)
    new_row = np.full(p.segment.chunk_count, -1, dtype=np.int64)
    new_row[p.chunk_rows] = np.arange(len(p.chunk_rows)) + p.chunk_base
    for a, b in slices(int(indptr[-1])):
        term = ids[np.searchsorted(indptr, np.arange(a, b), side="right") - 1]
        mapped = new_row[post.rows[a:b]]
        ok = mapped >= 0
        yield term[ok], mapped[ok], np.asarray(post.tf[a:b])[ok]
        release(post.rows, post.tf)


def _runs(term: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each run of one term starts in `term`, and its length (a term's postings are adjacent)."""
    starts = np.flatnonzero(np.concatenate([[True], term[1:] != term[:-1]])) if len(term) else np.zeros(0, np.int64)
    return starts, np.diff(np.append(starts, len(term)))
