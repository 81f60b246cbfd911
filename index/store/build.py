"""Build and update the persisted index: immutable segments listed by small versions (index/store/reading.py reads
them).

Layout of `index_dir`: `CURRENT` names the live version folder, whose `manifest.json` (format 4) holds the settings
the index was built with, the indexed roots and its segments in order, each with the documents deleted from it since
it was written (and their sentence-IDF counts). Segments live in `segments/` (index/store/segments.py); a new or changed
file is written into a new segment and its old rows are deleted by the manifest, so an update writes only what
changed; small segments are merged as they accumulate (index/store/merging.py). Every file is complete on disk before
the version naming it exists, and `CURRENT` is swapped atomically, so an interrupted run leaves the previous index
loadable. After the swap, versions and segments that neither the live version nor the one before it use are deleted
(a reader that has just read the older `CURRENT` still finds its files; one older than that retries: load_index).
One writer at a time: an update holds `.write.lock` (index/store/locking.py); readers only follow `CURRENT`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import numpy as np

from index.diskspace import INDEX_ELSEWHERE, build_bytes, cannot_write, check_space, segment_bytes, used_bytes
from index.documents.chunking import Span, sentences_of_chunks, split_sentences, split_text
from index.documents.loader import Document, Pending, Skipped, UnreadableDocument
from index.embedding.vectors import Embed, TokenEmbed, vectorize
from index.errors import IndexMismatch, IndexNotFound, NoDocuments
from index.search.lexical import terms
from index.search.vectorstores import FLAT_MAX_N, ivf_spec
from index.store.filetable import LiveFiles, live_files
from index.store.locking import write_lock
from index.store.merging import merge, plan
from index.store.reading import CURRENT, FORMAT, MANIFEST, SEGMENTS, IndexConfig, _read_json, read_manifest
from index.store.respec import current_kind, kind, rewrite_faiss
from index.store.segments import Batch, NewDoc, add_tables, open_segment, write_segment
from index.store.views import Layout

__all__ = ["BuildReport", "Publish", "build_index", "indexed_files"]
# Publish a written version elsewhere before the local swap (index/milvus/sync.py `publish`): returns its number there.
Publish = Callable[[dict[str, Any], Layout, Sequence[dict[str, Any]], list[str]], int]
BATCH_CHUNKS = 16_384  # a new segment per this many chunks: indexing memory stays flat in the corpus size
IVF_MIN = 65_536  # a merged segment this large gets an IVF index while the whole index is past FLAT_MAX_N


def segment_spec(chunks: int, index_chunks: int) -> str:
    """A segment's FAISS index: IVF if it holds at least IVF_MIN of an index's more than FLAT_MAX_N chunks, else exact.

    Applied when a segment is merged and again to every segment when a version is written, so an index of at most
    FLAT_MAX_N chunks is searched exactly and a larger one's merged segments all by IVF, whatever the index's size
    when they were merged (a 1M build's first 131k merge happens at 131k). Example: segment_spec(131_076, 200_000)
    -> 'Flat'; segment_spec(131_076, 1_000_000) -> 'IVF1448,SQ8'; segment_spec(16_384, 1_000_000) -> 'Flat'
    """
    return "Flat" if chunks < IVF_MIN or index_chunks <= FLAT_MAX_N else ivf_spec(chunks)


@dataclass(frozen=True)
class BuildReport:
    """What `build_index` did."""

    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: list[str]
    embedded: int
    chunks: int
    unreadable: list[Skipped] = field(default_factory=list)  # new or changed files that could not be parsed


@dataclass
class Entry:
    """A segment of the version being written, with the documents deleted from it and their IDF counts."""

    name: str
    dead: list[int] = field(default_factory=list)
    dead_idf: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "dead": self.dead, "dead_idf": self.dead_idf}


def build_index(
    documents: Sequence[Document | Pending],
    index_dir: Path,
    config: IndexConfig,
    *,
    embed: Embed,
    embed_tokens: TokenEmbed | None = None,
    rebuild: bool = False,
    roots: Sequence[str] = (),
    live: LiveFiles | None = None,
    unchanged: np.ndarray | None = None,
    publish: Publish | None = None,
) -> BuildReport:
    """Index `documents` into `index_dir`, embedding only files that are new or changed (see
    index/embedding/vectors.py).

    Pending documents are parsed when their batch is written, so only one batch's text is held at a time; a file that
    cannot be parsed is reported in `BuildReport.unreadable` and indexed as absent; NoDocuments if none would be left.

    `unchanged` are the rows of `live` (the index's files, from `indexed_files`) whose files were found unchanged
    without being read: they are kept as they are; every other indexed file not among `documents` is removed. An
    unchanged folder writes nothing and never calls `embed`, so the model need not even be loaded. The whole update
    holds the index's write lock (index/store/locking.py): a second writer gets IndexBusy at once. `publish`, needed
    when `config` names Milvus, puts each new version there before the local swap (index/pipeline.py passes it).
    """
    with write_lock(index_dir):
        writer = _Writer(index_dir, config, embed=embed, embed_tokens=embed_tokens, rebuild=rebuild, live=live,
                         publish=publish)  # fmt: skip
        rows = np.zeros(0, dtype=np.int64) if unchanged is None else unchanged
        try:
            return writer.run(documents, rows, list(roots))
        except BaseException as exc:
            writer.discard()  # at once: a full disk is not left fuller, and the live version is untouched
            error = cannot_write(exc, index_dir, what="the index", needed=writer.needed, other=INDEX_ELSEWHERE)
            if error is None:
                raise
            raise error from exc


class _Writer:
    """One update: diff the documents against the live version, write new segments, merge, swap."""

    def __init__(self, index_dir: Path, config: IndexConfig, *, embed: Embed, embed_tokens: TokenEmbed | None,
                 rebuild: bool, live: LiveFiles | None, publish: Publish | None = None) -> None:  # fmt: skip
        self.index_dir, self.config, self.embed, self.embed_tokens = index_dir, config, embed, embed_tokens
        self.previous = None if rebuild else _previous(index_dir, config)
        self.rebuild = rebuild
        self.publish = publish
        self.entries = [Entry(**e) for e in self.previous["segments"]] if self.previous else []
        self.segments = {e.name: open_segment(index_dir / SEGMENTS / e.name) for e in self.entries}
        self.embedded = 0
        self.created: list[str] = []  # segments and the version this update writes: discarded if it fails
        self.swapped = False
        self.needed: int | None = None  # the estimate of the write under way, for a message if it fails
        version = self.previous["_version"] if self.previous else None
        if live is None or live.version != version:  # not read from this version (no row given can be of it)
            live = indexed_files(index_dir, config) if version else live_files([], [])
        self.live = live

    def run(self, documents: Sequence[Document | Pending], unchanged: np.ndarray, roots: list[str]) -> BuildReport:
        old = self.live
        keep = np.zeros(len(old.sources), dtype=bool)
        keep[unchanged] = True
        row = dict(zip((d.source for d in documents), old.rows_of([d.source for d in documents]).tolist(), strict=True))
        same = [d.source for d in documents if row[d.source] >= 0 and old.sha256(row[d.source]) == d.sha256]
        keep[[row[s] for s in same]] = True  # touched, but the same bytes
        if int(keep.sum()) != len(unchanged) + len(same):
            raise IndexMismatch(f"The index at {self.index_dir} changed while indexing: run `citebot index` again")
        fresh = [d for d in documents if row[d.source] < 0 or not keep[row[d.source]]]
        gone = np.flatnonzero(~keep).tolist()
        unchanged_roots = self.previous is not None and self.previous.get("roots") == roots
        before = int(self.previous["chunks"]) if self.previous else 0
        if unchanged_roots and not fresh and not gone:
            return self._report(old, keep, [], [], chunks=before, row=row)
        self._check_space(build_bytes([_size(d) for d in fresh], dim=self.config.dim,
                                      chunk_size=self.config.chunk_size), "the new documents")  # fmt: skip
        self._delete([old.where(r) for r in gone])
        unreadable = self._write_new(fresh)
        failed = {s.source for s in unreadable}
        written = [d.source for d in fresh if d.source not in failed]
        if not written and not gone and (unchanged_roots or not self.previous):
            if not self.previous:
                raise NoDocuments("No readable files to index")
            return self._report(old, keep, [], unreadable, chunks=before, row=row)
        if not written and not keep.any():
            raise NoDocuments("No readable files to index")  # every indexed file gone: keep the index as it is
        self._merge()
        self._respec()
        for e in self.entries:  # an index written before the title tables and locations.json gets them, once
            add_tables(self.segments[e.name])
        chunks = _write_version(self, roots)
        report = self._report(old, keep, written, unreadable, chunks=chunks, row=row)
        return replace(report, embedded=self.embedded)

    def _report(self, old: LiveFiles, keep: np.ndarray, written: list[str], unreadable: list[Skipped], *,
                chunks: int, row: dict[str, int]) -> BuildReport:  # fmt: skip
        """What an update did; `row` is each document's row in `old` (-1: a new file)."""
        new = set(written)
        return BuildReport(
            added=sorted(s for s in written if row[s] < 0),
            changed=sorted(s for s in written if row[s] >= 0),
            removed=sorted(old.sources[r] for r in np.flatnonzero(~keep).tolist() if old.sources[r] not in new),
            unchanged=sorted([old.sources[r] for r in np.flatnonzero(keep).tolist()]),  # nearly sorted already
            embedded=0,
            chunks=chunks,
            unreadable=unreadable,
        )

    def _delete(self, docs: Sequence[tuple[str, int]]) -> None:
        """Mark documents (segment, number) deleted, subtracting their sentences from the segment's IDF counts."""
        for e in self.entries:
            gone = sorted(d for name, d in docs if name == e.name)
            if not gone:
                continue
            segment = self.segments[e.name]
            counts: Counter[str] = Counter(e.dead_idf.get("counts", {}))
            rows = segment.rows_of(segment.sentence_spans, gone)
            for row in rows:
                counts.update(terms(segment.span(segment.sentence_spans, int(row)).text))
            e.dead = sorted({*e.dead, *gone})
            e.dead_idf = {"size": int(e.dead_idf.get("size", 0)) + len(rows), "counts": dict(counts)}

    def _write_new(self, fresh: Sequence[Document | Pending]) -> list[Skipped]:
        """Parse, split and embed the new documents a batch at a time, each batch a new segment (merging as they pile
        up); only the batch's text is held. Returns the files that could not be parsed."""
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        docs: list[NewDoc] = []
        chunks: list[Span] = []
        sentences: list[Span] = []
        unreadable: list[Skipped] = []
        for pending in fresh:
            try:
                d = pending.load()
            except (UnreadableDocument, OSError) as exc:
                unreadable.append(Skipped(pending.source, str(exc) or type(exc).__name__))
                continue
            docs.append(NewDoc(d.source, d.text, d.sha256, now, d.locations.to_json() if d.locations else None, d.stat))
            size, overlap = self.config.chunk_size, self.config.chunk_overlap
            chunks += split_text(d.source, d.text, size=size, overlap=overlap)
            sentences += split_sentences(d.source, d.text)
            if len(chunks) >= BATCH_CHUNKS:
                self._segment(docs, chunks, sentences)
                docs, chunks, sentences = [], [], []
                self._merge()
        if docs:
            self._segment(docs, chunks, sentences)
        return unreadable

    def _segment(self, docs: list[NewDoc], chunks: list[Span], sentences: list[Span]) -> None:
        inside = sentences_of_chunks(chunks, sentences)
        mode, embed, tokens = self.config.chunk_vectors, self.embed, self.embed_tokens
        chunk_vecs, sent_vecs, embedded = vectorize(
            chunks, sentences, inside, mode=mode, embed=embed, embed_tokens=tokens
        )
        self.embedded += embedded
        batch = Batch(docs, chunks, sentences, inside, chunk_vecs, sent_vecs)
        text = sum(len(d.text) for d in docs)
        self._check_space(segment_bytes(text, len(chunks), len(sentences), dim=self.config.dim), "a new segment")
        name = self._new_name("s")
        write_segment(self.index_dir / SEGMENTS / name, batch, dim=self.config.dim, faiss_spec="Flat")
        self.entries.append(Entry(name))
        self.segments[name] = open_segment(self.index_dir / SEGMENTS / name)

    def _live_chunks(self, e: Entry) -> int:
        segment = self.segments[e.name]
        if not e.dead:
            return segment.chunk_count
        return segment.chunk_count - len(segment.rows_of(segment.chunk_spans, e.dead))

    def _merge(self) -> None:
        """Merge segments as the policy asks (index/store/merging.py), until it asks for nothing."""
        while True:
            self.entries = [e for e in self.entries if not e.dead or self._live_chunks(e) > 0]  # all deleted: drop
            live = [self._live_chunks(e) for e in self.entries]
            dead = [self.segments[e.name].chunk_count - n for e, n in zip(self.entries, live, strict=True)]
            run = plan(live, dead)
            if run is None:
                return
            picked = [self.entries[i] for i in run]
            total = sum(live[i] for i in run)
            size = sum(used_bytes(self.segments[e.name].folder) * live[i] // max(live[i] + dead[i], 1)
                       for i, e in zip(run, picked, strict=True))  # fmt: skip
            self._check_space(size, "a merge of segments")
            name = self._new_name("m")
            merge([self.segments[e.name] for e in picked], [e.dead for e in picked], [e.dead_idf for e in picked],
                  self.index_dir / SEGMENTS / name, spec=self._spec(total))  # fmt: skip
            self.entries[run[0] : run[-1] + 1] = [Entry(name)]
            for e in picked:  # unmapped once unused: a long build holds only its live segments
                del self.segments[e.name]
            self.segments[name] = open_segment(self.index_dir / SEGMENTS / name)

    def _spec(self, chunks: int) -> str:
        """A merged segment's FAISS index, for the index's size now (segment_spec)."""
        return segment_spec(chunks, sum(self._live_chunks(e) for e in self.entries))

    def _respec(self) -> None:
        """Give every segment the kind of FAISS index segment_spec asks for the new version's size
        (index/store/respec.py)."""
        total = sum(self._live_chunks(e) for e in self.entries)
        for e in self.entries:
            segment = self.segments[e.name]
            spec = segment_spec(segment.chunk_count, total)
            if current_kind(segment) != kind(spec):
                self._check_space(
                    segment.chunk_count * self.config.dim, "a segment's new search index"
                )  # its codes at least
                name = self._new_name("m")
                rewrite_faiss(segment, self.index_dir / SEGMENTS / name, spec=spec)
                del self.segments[e.name]
                e.name, self.segments[name] = name, open_segment(self.index_dir / SEGMENTS / name)

    def swap(self, roots: list[str]) -> int:
        """Write the new version's manifest, swap CURRENT to it, then delete what no recent version uses."""
        chunks = sum(self._live_chunks(e) for e in self.entries)
        manifest = {"format": FORMAT, **self.config.__dict__, "roots": roots, "chunks": chunks,
                    "segments": [e.to_json() for e in self.entries]}  # fmt: skip
        version = self._new_name("v")
        tmp = self.index_dir / f".tmp-{version}"
        tmp.mkdir(parents=True)
        if self.config.vector_store == "milvus":  # published before the local swap: a failure leaves both as they were
            if self.publish is None:
                raise ValueError("build_index needs `publish` (index/milvus/sync.py) to write a Milvus index")
            dead_idf = [e["dead_idf"] for e in manifest["segments"]]
            manifest["milvus_version"] = self.publish(self.config.__dict__, self._open(manifest), dead_idf, roots)
        _write_json(tmp / MANIFEST, manifest)
        os.replace(tmp, self.index_dir / version)
        _write_json(self.index_dir / f".{CURRENT}.tmp", version)
        os.replace(self.index_dir / f".{CURRENT}.tmp", self.index_dir / CURRENT)
        self.swapped = True
        _collect_garbage(self.index_dir, version, self.previous)
        return chunks

    def _new_name(self, kind: str) -> str:
        """A new segment or version name, recorded for `discard`."""
        self.created.append(_new_name(kind))
        return self.created[-1]

    def _check_space(self, needed: int, what: str) -> None:
        self.needed = needed
        check_space(self.index_dir, needed, what=f"{what} of the index", other=INDEX_ELSEWHERE)

    def discard(self) -> None:
        """Delete what this update wrote (finished or not), unless its version went live."""
        if self.swapped:
            return
        self.segments.clear()  # unmapped: a deleted file's space is freed only when no map holds it
        (self.index_dir / f".{CURRENT}.tmp").unlink(missing_ok=True)
        for name in self.created:
            for folder in (self.index_dir, self.index_dir / SEGMENTS):
                shutil.rmtree(folder / name, ignore_errors=True)
                shutil.rmtree(folder / f".tmp-{name}", ignore_errors=True)

    def _open(self, manifest: dict[str, Any]) -> Layout:
        entries = manifest["segments"]
        return Layout([self.segments[e["name"]] for e in entries], [e["dead"] for e in entries])


def indexed_files(index_dir: Path, config: IndexConfig) -> LiveFiles:
    """The live index's files and their (size, mtime_ns, sha256) when last read, if it was built with `config` (none
    if not), from its segments' file tables (index/store/filetable.py): no document is read."""
    manifest = _previous(index_dir, config)
    if manifest is None:
        return live_files([], [])
    entries = manifest["segments"]
    found = live_files([index_dir / SEGMENTS / e["name"] for e in entries], [e["dead"] for e in entries])
    return replace(found, version=manifest["_version"])


def _write_version(writer: _Writer, roots: list[str]) -> int:
    """Write the new version and make it live; returns its chunk count."""
    return writer.swap(roots)


def _size(document: Document | Pending) -> tuple[str, int]:
    """A document's name and size in bytes (of its text, once loaded)."""
    if isinstance(document, Pending):
        return document.path, document.stat[0]
    return document.source, len(document.text)


def _new_name(kind: str) -> str:
    return f"{kind}{time.time_ns()}-{os.getpid()}"


def _previous(index_dir: Path, config: IndexConfig) -> dict[str, Any] | None:
    """The live manifest if it was built with the same config; otherwise None (a full rebuild)."""
    try:
        _, manifest = read_manifest(index_dir)
    except (IndexNotFound, IndexMismatch):
        return None
    defaults = {f.name: f.default for f in fields(IndexConfig)}  # a manifest written before a field existed
    return manifest if all(manifest.get(k, defaults[k]) == v for k, v in config.__dict__.items()) else None


def _collect_garbage(index_dir: Path, version: str, previous: dict[str, Any] | None) -> None:
    """Delete versions and segments that neither `version` nor the one before it use, and killed writers' leftovers.

    Called under the write lock, so any `.tmp-*` is a leftover.
    """
    keep_versions = {version, *([previous["_version"]] if previous else [])}
    keep_segments = set()
    for name in keep_versions:
        try:
            keep_segments |= {e["name"] for e in _read_json(index_dir / name / MANIFEST)["segments"]}
        except (OSError, ValueError, KeyError, TypeError):
            continue
    for path in index_dir.iterdir():
        if path.is_dir() and path.name.startswith(("v", ".tmp-")) and path.name not in keep_versions:
            shutil.rmtree(path, ignore_errors=True)
    segments = index_dir / SEGMENTS
    for path in segments.iterdir() if segments.exists() else ():
        if path.name not in keep_segments:
            shutil.rmtree(path, ignore_errors=True)


def _write_json(path: Path, value: Any) -> None:
    """Write JSON and fsync it, so a completed version is complete on disk."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(value, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())
