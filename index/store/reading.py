"""Read an index version: its manifest, and its segments as one lazily read `StoredIndex` (no corpus-wide load).

`CURRENT` names the live version; index/store/build.py writes versions and segments. A reader that finds its version's
files deleted (two updates while it read) reads the live version instead.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from index.documents.chunking import Span
from index.documents.locations import Locations
from index.errors import IndexMismatch, IndexNotFound
from index.search.lexical import Vocabulary
from index.search.titles import TitleIndex
from index.search.vectorstores import DenseSearch, LexicalSearch, RowVectors
from index.store.segments import Segment, open_segment
from index.store.views import ChunkSentences, Dense, Layout, Spans, Vectors, find_sentence, lexical, vocabulary

FORMAT = 5  # 3: one folder per version, rewritten whole; 4: segments, versions list them with deletions;
# 5: sentence vectors float16, so a citebot that reads only float32 refuses the index instead of missing a file
OLDEST_READABLE = 4  # format 4's float32 sentence vectors are read as they are
CURRENT = "CURRENT"
SEGMENTS = "segments"
MANIFEST = "manifest.json"


@dataclass(frozen=True)
class IndexConfig:
    """What an index is built with; a mismatch on load means it must be rebuilt."""

    embed_model: str
    dim: int
    chunk_size: int
    chunk_overlap: int
    chunk_vectors: str = "late"  # late | embed | pool (index/embedding/vectors.py)
    vector_store: str = "faiss"  # faiss | milvus
    milvus_uri: str = ""  # a Milvus Lite .db path or http://host:19530
    milvus_collection: str = ""  # the prefix of the index's Milvus collections (index/milvus/collections.py)


@dataclass
class StoredIndex:
    """A loaded index version: chunks (with vectors in FAISS) and sentences (with their own vectors), read lazily.

    Rows number the live chunks (and sentences) of all segments in order; the sequences read one row at a time.
    """

    path: Path
    manifest: dict[str, Any]  # its "files" ({source: sha256}) is read from the segments when first used
    dense: DenseSearch
    lexical: LexicalSearch
    vocabulary: Vocabulary
    chunks: Sequence[Span]
    chunk_vectors: RowVectors
    sentences: Sequence[Span]
    sentence_vectors: RowVectors
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
    if manifest["format"] < OLDEST_READABLE:
        raise IndexMismatch(f"The index at {index_dir} was written by an older citebot: run `citebot index --rebuild`")
    manifest["_version"] = version
    return path, manifest


def check_index(index_dir: Path) -> None:
    """Raise IndexNotFound/IndexMismatch, with what to run, when there is no index to answer from (a cheap check)."""
    read_manifest(index_dir)


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
    entries = manifest["segments"]
    segments = [open_segment(path.parent / SEGMENTS / e["name"]) for e in entries]
    for s in segments:  # whole columns are read below (a deletion's live rows): with readahead
        s.read_randomly(False)
    layout = Layout(segments, [e["dead"] for e in entries])
    for s in segments:  # open the FAISS indexes and read what answers need now, while the version's files are there
        _ = s.dense, s.postings, s.locations, s.sources
        s.keep_meta()
    docs = _Documents(layout)
    manifest = {**manifest, "files": docs.files}
    stored = StoredIndex(
        path=path,
        manifest=manifest,
        dense=Dense(layout),
        lexical=lexical(layout),
        vocabulary=vocabulary(layout, [e["dead_idf"] for e in entries]),
        chunks=Spans(layout, sentences=False),
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
    for s in segments:  # answers read a few rows at a time
        s.read_randomly()
    return stored


class _Documents:
    """Per-source facts of a version's live documents, gathered from the segments when first asked for."""

    def __init__(self, layout: Layout) -> None:
        self.layout = layout
        self.files = _Files(lambda: self._column("sha256"), layout)
        self.indexed_at = _LazyMap(lambda: self._column("indexed_at"))
        self.locations = _Locations(self._locations, layout)
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
            found = s.locations.get(s.sources[d])
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


class _Files(_LazyMap):
    """Each live source's sha256, computed on first use; its size and the documents' title terms without it (a
    question asks for those, and listing 333k files took 0.7 s of the first answer at 1M chunks)."""

    def __init__(self, make: Any, layout: Layout) -> None:
        super().__init__(make)
        self.layout = layout

    def __len__(self) -> int:
        if self._value is not None:
            return len(self._value)
        return sum(len(s.sources) - len(set(d)) for s, d in zip(self.layout.segments, self.layout.dead, strict=True))

    @cached_property
    def titles(self) -> TitleIndex:
        segments = self.layout.segments
        return TitleIndex([s.titles for s in segments], [s.sources for s in segments], self.layout.dead)


class _Locations(_LazyMap):
    """Each live source's page and heading locations, computed on first use; one source's found without it (each
    answer asks for its citations' sources)."""

    def __init__(self, make: Any, layout: Layout) -> None:
        super().__init__(make)
        self.layout = layout

    def get(self, key: str, default: Any = None) -> Any:
        if self._value is not None:
            return self._value.get(key, default)
        for segment, dead in zip(reversed(self.layout.segments), reversed(self.layout.dead), strict=True):
            found = segment.locations.get(key)
            if found and (not dead or segment.sources.index(key) not in set(dead)):
                return Locations.from_json(found)
        return default
