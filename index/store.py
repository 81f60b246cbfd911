"""Build, update and load the persisted index: immutable segments listed by small versions, read lazily.

Layout of `index_dir`: `CURRENT` names the live version folder, whose `manifest.json` (format 4) holds the settings
the index was built with, the indexed roots and its segments in order, each with the documents deleted from it since
it was written (and their sentence-IDF counts). Segments live in `segments/` (index/segments.py); a new or changed
file is written into a new segment and its old rows are deleted by the manifest, so an update writes only what
changed; small segments are merged as they accumulate (index/merging.py). Every file is complete on disk before the
version naming it exists, and `CURRENT` is swapped atomically, so an interrupted run leaves the previous index
loadable. After the swap, versions and segments that neither the live version nor the one before it use are deleted
(a reader that has just read the older `CURRENT` still finds its files; one older than that retries, see load_index).
One writer at a time: an update holds `.write.lock` (index/locking.py); readers only follow `CURRENT`.
"""

from __future__ import annotations

import json
import os
import shutil
import time
from collections import Counter
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from index.chunking import Span, split_sentences, split_text
from index.errors import IndexMismatch, IndexNotFound
from index.lexical import BM25, Vocabulary, terms
from index.loader import Document
from index.locations import Locations
from index.locking import write_lock
from index.merging import merge, plan
from index.segments import Batch, NewDoc, Segment, write_segment
from index.vectors import Embed, TokenEmbed, vectorize
from index.vectorstores import FLAT_MAX_N, DenseSearch, ivf_spec
from index.views import ChunkSentences, Dense, Layout, Spans, Vectors, find_sentence, lexical, vocabulary

FORMAT = 4  # 3: one folder per version, rewritten whole; 4: segments, versions list them with deletions
CURRENT = "CURRENT"
SEGMENTS = "segments"
MANIFEST = "manifest.json"
BATCH_CHUNKS = 16_384  # a new segment per this many chunks: indexing memory stays flat in the corpus size
IVF_MIN = 65_536  # a merged segment this large gets an IVF index once the whole index passes FLAT_MAX_N


@dataclass(frozen=True)
class IndexConfig:
    """What an index is built with; a mismatch on load means it must be rebuilt."""

    embed_model: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    chunk_vectors: str = "late"  # late | embed | pool (index/vectors.py)
    vector_store: str = "faiss"  # faiss | milvus
    milvus_uri: str = ""  # a Milvus Lite .db path or http://host:19530


@dataclass
class StoredIndex:
    """A loaded index version: chunks (with vectors in FAISS) and sentences (with their own vectors), read lazily.

    Rows number the live chunks (and sentences) of all segments in order; the sequences read one row at a time.
    """

    path: Path
    manifest: dict[str, Any]  # its "files" ({source: sha256}) is read from the segments when first used
    dense: DenseSearch
    lexical: BM25
    vocabulary: Vocabulary
    chunks: Sequence[Span]
    chunk_ids: Sequence[str]
    chunk_vectors: Vectors
    sentences: Sequence[Span]
    sentence_vectors: Vectors
    chunk_sentences: Sequence[list[int]] = field(default_factory=list)
    locations: Mapping[str, Locations] = field(default_factory=dict)  # per source
    indexed_at: Mapping[str, str] = field(default_factory=dict)  # per source: when its content was indexed (UTC)
    chunk_counts: Mapping[str, int] = field(default_factory=dict)  # per source: its chunks
    layout: Layout | None = None  # the segments behind the sequences
    _documents: _Documents | None = field(default=None, repr=False)

    def find_sentence(self, text: str) -> list[int]:
        """Rows of the sentences whose text is exactly `text`, in order (no scan of the corpus)."""
        if self.layout is None:
            return [i for i, s in enumerate(self.sentences) if s.text == text]
        return find_sentence(self.layout, text)

    def chunks_of(self, source: str) -> list[int]:
        """Rows of a source's chunks, in order (no scan of the corpus)."""
        if self._documents is None:
            return [i for i, c in enumerate(self.chunks) if c.source == source]
        return self._documents.chunks_of(source)


@dataclass(frozen=True)
class BuildReport:
    """What `build_index` did."""

    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: list[str]
    embedded: int
    chunks: int


@dataclass
class Entry:
    """A segment of the version being written, with the documents deleted from it and their IDF counts."""

    name: str
    dead: list[int] = field(default_factory=list)
    dead_idf: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {"name": self.name, "dead": self.dead, "dead_idf": self.dead_idf}


def build_index(
    documents: Sequence[Document],
    index_dir: Path,
    config: IndexConfig,
    *,
    embed: Embed,
    embed_tokens: TokenEmbed | None = None,
    rebuild: bool = False,
    roots: Sequence[str] = (),
) -> BuildReport:
    """Index `documents` into `index_dir`, embedding only files that are new or changed (see index/vectors.py).

    An unchanged folder writes nothing and never calls `embed`, so the model need not even be loaded. The whole update
    holds the index's write lock (index/locking.py): a second writer gets IndexBusy at once.
    """
    with write_lock(index_dir):
        writer = _Writer(index_dir, config, embed=embed, embed_tokens=embed_tokens, rebuild=rebuild)
        return writer.run(documents, list(roots))


class _Writer:
    """One update: diff the documents against the live version, write new segments, merge, swap."""

    def __init__(
        self, index_dir: Path, config: IndexConfig, *, embed: Embed, embed_tokens: TokenEmbed | None, rebuild: bool
    ) -> None:
        self.index_dir, self.config, self.embed, self.embed_tokens = index_dir, config, embed, embed_tokens
        self.previous = None if rebuild else _previous(index_dir, config)
        self.entries = [Entry(**e) for e in self.previous["segments"]] if self.previous else []
        self.segments = {e.name: Segment(index_dir / SEGMENTS / e.name) for e in self.entries}
        self.embedded = 0

    def run(self, documents: Sequence[Document], roots: list[str]) -> BuildReport:
        old = self._live_files()
        files = {d.source: d.sha256 for d in documents}
        if self.previous and {s: v[2] for s, v in old.items()} == files and self.previous.get("roots") == roots:
            return BuildReport([], [], [], sorted(files), 0, int(self.previous["chunks"]))
        reuse = {s for s, (_, _, sha) in old.items() if files.get(s) == sha}
        self._delete([old[s][:2] for s in old if s not in reuse])
        fresh = [d for d in documents if d.source not in reuse]
        if any(not d.read for d in fresh):  # only possible if the index changed after known_files was read
            raise IndexMismatch(f"The index at {self.index_dir} changed while indexing: run `citebot index` again")
        self._write_new(fresh)
        self._merge()
        chunks = _write_version(self, roots)
        return BuildReport(
            added=sorted(s for s in files if s not in old),
            changed=sorted(s for s in files if s in old and s not in reuse),
            removed=sorted(s for s in old if s not in files),
            unchanged=sorted(reuse),
            embedded=self.embedded,
            chunks=chunks,
        )

    def _live_files(self) -> dict[str, tuple[str, int, str]]:
        """Every live source: (segment, document number in it, sha256)."""
        out = {}
        for e in self.entries:
            meta, dead = self.segments[e.name].meta, set(e.dead)
            for d, (source, sha) in enumerate(zip(meta["sources"], meta["sha256"], strict=True)):
                if d not in dead:
                    out[source] = (e.name, d, sha)
        return out

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

    def _write_new(self, fresh: Sequence[Document]) -> None:
        """Split and embed the new documents a batch at a time, each batch a new segment (merging as they pile up)."""
        now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
        docs: list[NewDoc] = []
        chunks: list[Span] = []
        sentences: list[Span] = []
        for d in fresh:
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

    def _segment(self, docs: list[NewDoc], chunks: list[Span], sentences: list[Span]) -> None:
        inside = sentences_of_chunks(chunks, sentences)
        mode, embed, tokens = self.config.chunk_vectors, self.embed, self.embed_tokens
        chunk_vecs, sent_vecs, embedded = vectorize(
            chunks, sentences, inside, mode=mode, embed=embed, embed_tokens=tokens
        )
        self.embedded += embedded
        batch = Batch(docs, chunks, sentences, inside, chunk_vecs, sent_vecs)
        name = _new_name("s")
        write_segment(self.index_dir / SEGMENTS / name, batch, dim=self.config.dim, faiss_spec="Flat")
        self.entries.append(Entry(name))
        self.segments[name] = Segment(self.index_dir / SEGMENTS / name)

    def _live_chunks(self, e: Entry) -> int:
        segment = self.segments[e.name]
        if not e.dead:
            return segment.chunk_count
        return segment.chunk_count - len(segment.rows_of(segment.chunk_spans, e.dead))

    def _merge(self) -> None:
        """Merge segments as the policy asks (index/merging.py), until it asks for nothing."""
        while True:
            self.entries = [e for e in self.entries if not e.dead or self._live_chunks(e) > 0]  # all deleted: drop
            live = [self._live_chunks(e) for e in self.entries]
            dead = [self.segments[e.name].chunk_count - n for e, n in zip(self.entries, live, strict=True)]
            run = plan(live, dead)
            if run is None:
                return
            picked = [self.entries[i] for i in run]
            name = _new_name("m")
            total = sum(live[i] for i in run)
            merge([self.segments[e.name] for e in picked], [e.dead for e in picked], [e.dead_idf for e in picked],
                  self.index_dir / SEGMENTS / name, spec=self._spec(total))  # fmt: skip
            self.entries[run[0] : run[-1] + 1] = [Entry(name)]
            self.segments[name] = Segment(self.index_dir / SEGMENTS / name)

    def _spec(self, chunks: int) -> str:
        """A merged segment's FAISS index: exact, unless both it and the index are large (then IVF, as faiss_spec)."""
        total = sum(self._live_chunks(e) for e in self.entries)
        return "Flat" if chunks < IVF_MIN or total <= FLAT_MAX_N else ivf_spec(chunks)

    def swap(self, roots: list[str]) -> int:
        """Write the new version's manifest, swap CURRENT to it, then delete what no recent version uses."""
        chunks = sum(self._live_chunks(e) for e in self.entries)
        manifest = {"format": FORMAT, **self.config.__dict__, "roots": roots, "chunks": chunks,
                    "segments": [e.to_json() for e in self.entries]}  # fmt: skip
        version = _new_name("v")
        tmp = self.index_dir / f".tmp-{version}"
        tmp.mkdir(parents=True)
        if self.config.vector_store == "milvus":
            manifest.update(_write_milvus(self.index_dir, self.config, version, tmp, self._open(manifest)))
        _write_json(tmp / MANIFEST, manifest)
        os.replace(tmp, self.index_dir / version)
        _write_json(self.index_dir / f".{CURRENT}.tmp", version)
        os.replace(self.index_dir / f".{CURRENT}.tmp", self.index_dir / CURRENT)
        _collect_garbage(self.index_dir, version, self.previous)
        if self.config.vector_store == "milvus":
            from index.vectorstores import drop_other_collections

            drop_other_collections(manifest)
        return chunks

    def _open(self, manifest: dict[str, Any]) -> Layout:
        entries = manifest["segments"]
        return Layout([self.segments[e["name"]] for e in entries], [e["dead"] for e in entries])


def known_files(index_dir: Path, config: IndexConfig) -> dict[str, tuple[int, int, str]]:
    """The live index's files as (size, mtime_ns, sha256) when last read, if it was built with `config` ({} if not)."""
    manifest = _previous(index_dir, config)
    if manifest is None:
        return {}
    out = {}
    for e in manifest["segments"]:
        meta, dead = Segment(index_dir / SEGMENTS / e["name"]).meta, set(e["dead"])
        for d, (source, (size, mtime), sha) in enumerate(
            zip(meta["sources"], meta["stat"], meta["sha256"], strict=True)
        ):
            if d not in dead:
                out[source] = (size, mtime, sha)
    return out


def _write_version(writer: _Writer, roots: list[str]) -> int:
    """Write the new version and make it live; returns its chunk count."""
    return writer.swap(roots)


def _new_name(kind: str) -> str:
    return f"{kind}{time.time_ns()}-{os.getpid()}"


def _previous(index_dir: Path, config: IndexConfig) -> dict[str, Any] | None:
    """The live manifest if it was built with the same config; otherwise None (a full rebuild)."""
    try:
        _, manifest = read_manifest(index_dir)
    except (IndexNotFound, IndexMismatch):
        return None
    return manifest if all(manifest.get(k) == v for k, v in config.__dict__.items()) else None


def _write_milvus(index_dir: Path, config: IndexConfig, version: str, tmp: Path, layout: Layout) -> dict[str, Any]:
    """Milvus keeps whole collections for now: one per version, holding every live chunk (ids in chunk_ids.json)."""
    import hashlib

    from index.vectorstores import new_store

    digest = hashlib.sha1(str(index_dir.resolve()).encode()).hexdigest()[:8]
    collection = f"citebot_{digest}_{version.replace('-', '_')}"
    vectors = Vectors(layout, sentences=False, dim=config.dim)
    store, record = new_store("milvus", dim=config.dim, vectors=np.zeros((0, config.dim)), milvus_uri=config.milvus_uri,
                              collection=collection)  # fmt: skip
    nodes = [_to_node(c, v) for c, v in zip(Spans(layout, sentences=False), vectors, strict=True)]
    store.add(nodes)
    _write_json(tmp / "chunk_ids.json", [n.node_id for n in nodes])
    return record


def _to_node(chunk: Span, vector: np.ndarray) -> Any:
    """A llama-index node for a chunk, with its offsets as metadata kept out of the embedded text."""
    import hashlib

    from llama_index.core.schema import TextNode

    meta = {"source": chunk.source, "start": chunk.start, "end": chunk.end}
    node_id = hashlib.sha256(f"{chunk.source}\0{chunk.start}\0{chunk.text}".encode()).hexdigest()[:32]
    return TextNode(id_=node_id, text=chunk.text, metadata=meta, embedding=vector.tolist(),
                    excluded_embed_metadata_keys=list(meta), excluded_llm_metadata_keys=list(meta))  # fmt: skip


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


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def read_manifest(index_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The live version folder and its manifest; raise IndexNotFound/IndexMismatch with what to run."""
    hint = f"run `citebot index` to build it at {index_dir}"
    try:
        version = _read_json(index_dir / CURRENT)
        path = index_dir / version
        manifest = _read_json(path / MANIFEST)
    except (OSError, ValueError, TypeError) as exc:
        raise IndexNotFound(f"No index at {index_dir} ({hint})") from exc
    if not isinstance(manifest, dict) or manifest.get("format", FORMAT + 1) > FORMAT:
        raise IndexMismatch(f"The index at {index_dir} was written by a newer citebot (upgrade citebot, or {hint})")
    if manifest["format"] < FORMAT:
        raise IndexMismatch(f"The index at {index_dir} was written by an older citebot: run `citebot index --rebuild`")
    manifest["_version"] = version
    return path, manifest


def live_version(index_dir: Path) -> str | None:
    """The version folder CURRENT names now (None if unreadable): a cheap check for a newer index."""
    try:
        version = _read_json(index_dir / CURRENT)
    except (OSError, ValueError):
        return None
    return version if isinstance(version, str) else None


def load_index(index_dir: Path, *, expect: IndexConfig | None = None) -> StoredIndex:
    """Load the live index; with `expect`, check it was built with that model and dimension.

    If a writer deletes the version's files while it is read (two updates within the read), the newer one is read.
    """
    for attempt in range(3):
        path, manifest = read_manifest(index_dir)
        if expect is not None and (manifest["embed_model"], manifest["dim"]) != (expect.embed_model, expect.dim):
            raise IndexMismatch(
                f"The index at {index_dir} was built with {manifest['embed_model']} ({manifest['dim']}-d), "
                f"not {expect.embed_model} ({expect.dim}-d): run `citebot index --rebuild`"
            )
        try:
            return _load_version(path, manifest)
        except (OSError, ValueError, KeyError, RuntimeError) as exc:
            if attempt < 2 and live_version(index_dir) != path.name:
                continue
            raise IndexMismatch(f"The index at {index_dir} is damaged ({exc}): run `citebot index --rebuild`") from exc
    raise AssertionError("unreachable")


def _load_version(path: Path, manifest: dict[str, Any]) -> StoredIndex:
    """Open a version's segments: small per-segment arrays and JSON, everything else memory-mapped."""
    from index.vectorstores import MilvusSearch

    entries = manifest["segments"]
    segments = [Segment(path.parent / SEGMENTS / e["name"]) for e in entries]
    layout = Layout(segments, [e["dead"] for e in entries])
    for s in segments:  # open the FAISS indexes now, while the version's files are certainly there
        _ = s.dense, s.postings
    docs = _Documents(layout)
    manifest = {**manifest, "files": docs.files}
    chunk_ids: Sequence[str] = []
    dense: DenseSearch = Dense(layout)
    if manifest.get("vector_store") == "milvus":
        chunk_ids = _read_json(path / "chunk_ids.json")
        dense = MilvusSearch({**manifest, "chunk_ids": chunk_ids})
    stored = StoredIndex(
        path=path,
        manifest=manifest,
        dense=dense,
        lexical=lexical(layout),
        vocabulary=vocabulary(layout, [e["dead_idf"] for e in entries]),
        chunks=Spans(layout, sentences=False),
        chunk_ids=chunk_ids,
        chunk_vectors=Vectors(layout, sentences=False, dim=int(manifest["dim"])),
        sentences=Spans(layout, sentences=True),
        sentence_vectors=Vectors(layout, sentences=True, dim=int(manifest["dim"])),
        chunk_sentences=ChunkSentences(layout),
        locations=docs.locations,
        indexed_at=docs.indexed_at,
        chunk_counts=docs.chunk_counts,
        layout=layout,
    )
    stored._documents = docs
    return stored


class _Documents:
    """Per-source facts of a version's live documents, gathered from the segments when first asked for."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.files = _LazyMap(lambda: self._column("sha256"))
        self.indexed_at = _LazyMap(lambda: self._column("indexed_at"))
        self.locations = _LazyMap(self._locations)
        self.chunk_counts = _LazyMap(self._chunk_counts)

    def _live(self) -> Iterator[tuple[Segment, int]]:
        for segment, dead in zip(self.layout.segments, self.layout.dead, strict=True):
            gone = set(dead)
            yield from ((segment, d) for d in range(len(segment.sources)) if d not in gone)

    def _column(self, key: str) -> dict[str, Any]:
        return {s.sources[d]: s.meta[key][d] for s, d in self._live()}

    def _locations(self) -> dict[str, Any]:
        out = {}
        for s, d in self._live():
            found = s.meta["locations"].get(s.sources[d])
            if found:
                out[s.sources[d]] = Locations.from_json(found)
        return out

    def chunks_of(self, source: str) -> list[int]:
        where = self.where.get(source)
        if where is None:
            return []
        seg, d = where
        rows = self.layout.segments[seg].chunk_rows_of(d)
        return self.layout.global_rows(seg, np.arange(rows.start, rows.stop))

    @cached_property
    def where(self) -> dict[str, tuple[int, int]]:
        """Each live source's segment and document number."""
        out: dict[str, tuple[int, int]] = {}
        for seg, (segment, dead) in enumerate(zip(self.layout.segments, self.layout.dead, strict=True)):
            gone = set(dead)
            out.update((source, (seg, d)) for d, source in enumerate(segment.sources) if d not in gone)
        return out

    def _chunk_counts(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for seg, s in enumerate(self.layout.segments):
            docs = np.asarray(s.chunk_spans[:, 0])[self.layout.local_rows(seg)]
            for d, n in zip(*np.unique(docs, return_counts=True), strict=True):
                out[s.sources[int(d)]] = int(n)
        return out


class _LazyMap(Mapping[str, Any]):
    """A read-only mapping computed on first use."""

    def __init__(self, make: Any) -> None:
        self._make, self._value = make, None

    def _get(self) -> dict[str, Any]:
        if self._value is None:
            self._value = self._make()
        return self._value  # type: ignore[return-value]

    def __getitem__(self, key: str) -> Any:
        return self._get()[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._get())

    def __len__(self) -> int:
        return len(self._get())

    def __eq__(self, other: object) -> bool:
        return dict(self._get()) == other

    __hash__ = None  # type: ignore[assignment]


def sentences_of_chunks(chunks: Sequence[Span], sentences: Sequence[Span]) -> list[list[int]]:
    """For each chunk, the sentences that lie mostly inside it (a binary search per chunk: linear in the corpus).

    Example: chunk [0, 100) and sentences [0, 40), [41, 120) -> [[0]] (the second is mostly outside).
    """
    import bisect

    by_source: dict[str, list[int]] = {}
    for i, s in enumerate(sentences):
        by_source.setdefault(s.source, []).append(i)
    for members in by_source.values():
        members.sort(key=lambda i: sentences[i].start)
    ends = {src: [sentences[i].end for i in members] for src, members in by_source.items()}
    result = []
    for c in chunks:
        members = by_source.get(c.source, [])
        inside = []
        for i in members[bisect.bisect_right(ends.get(c.source, []), c.start) :]:
            s = sentences[i]
            if s.start >= c.end:
                break
            overlap = min(s.end, c.end) - max(s.start, c.start)
            if overlap > 0 and overlap * 2 >= s.end - s.start:
                inside.append(i)
        result.append(inside)
    return result
