"""One immutable segment of an index: a batch of documents' text, chunks, sentences, vectors and BM25 postings.

A segment folder is written once (to a `.tmp-` name, flushed, then renamed) and never changed (but for the files
`add_tables` gives a segment written before them); an index version lists
its live segments and the sources deleted from them (index/store/build.py). Files of a segment:
`meta.json` (counts, and per document its source, sha256, when indexed, locations; read only when asked for),
`doc-sources.bin`/`doc-files.npy` (per document its source, size, mtime and sha256: index/store/filetable.py),
`text.bin` (the documents' UTF-8 text, one after another) with `docs.npy` (each document's byte range),
`chunk-spans.npy`/`sentence-spans.npy` (per span: document, char start, char end, byte start, byte end),
`chunk-vectors.npy` (float32), `sentence-vectors-f16.npy` (float16, or float32 `sentence-vectors.npy` in a segment
written before: index/store/sentence_vectors.py), `chunk-sentences-*.npy` (the sentences mostly inside each
chunk), `chunks.faiss` (as llama-index's FaissVectorStore writes it), the BM25 postings `bm25-*`
(index/search/lexical.py), `idf.json` (sentence counts per term), `title-*` (documents by the words of their file
names: index/search/titles.py) and `locations.json` (meta.json's locations alone, read when a version is loaded).
Everything but the JSON is memory-mapped when read (the maps answering questions without readahead: `read_randomly`):
opening a segment reads no text and no vector.
"""

from __future__ import annotations

import hashlib
import json
import mmap
import os
import shutil
import threading
import weakref
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from index.documents.chunking import Span
from index.npyfiles import advise, release, slices
from index.search.lexical import Postings, terms
from index.search.titles import DOCS_FILE, INDPTR_FILE, TERMS_FILE, TitleTable
from index.search.vectorstores import write_codes
from index.store.filetable import read_sources, write_table
from index.store.sentence_vectors import SentenceVectors, save_vectors

META = "meta.json"
LOCATIONS = "locations.json"  # meta.json's "locations" alone: each answer asks for its citations' pages
FAISS_FILE = "chunks.faiss"
CODES_FILE = (
    "chunks-sq8.faiss"  # 8-bit codes of a flat segment's chunk vectors (index/search/vectorstores.py ExactSearch)
)


@dataclass(frozen=True)
class NewDoc:
    """A document going into a new segment, with what the index records about it."""

    source: str
    text: str
    sha256: str
    indexed_at: str
    locations: dict[str, Any] | None
    stat: tuple[int, int] = (0, 0)  # size and mtime_ns of the file when read


@dataclass(frozen=True)
class Batch:
    """A batch of new documents, split and embedded: what `write_segment` writes."""

    docs: list[NewDoc]
    chunks: list[Span]
    sentences: list[Span]
    inside: list[list[int]]  # per chunk, its sentences (indices into `sentences`)
    chunk_vectors: np.ndarray
    sentence_vectors: np.ndarray


def write_segment(folder: Path, batch: Batch, *, dim: int, faiss_spec: str) -> None:
    """Write `batch` as the complete segment `folder` (written under a temporary name, flushed, then renamed)."""
    tmp = folder.parent / f".tmp-{folder.name}"
    tmp.mkdir(parents=True)
    doc_of = {d.source: i for i, d in enumerate(batch.docs)}
    blob, bases, maps = bytearray(), [0], []
    for d in batch.docs:
        data = d.text.encode("utf-8", "surrogatepass")
        maps.append(_byte_offsets(d.text))
        blob += data
        bases.append(len(blob))
    (tmp / "text.bin").write_bytes(bytes(blob))
    np.save(tmp / "docs.npy", np.array(bases, dtype=np.int64))
    for name, spans in (("chunk", batch.chunks), ("sentence", batch.sentences)):
        np.save(tmp / f"{name}-spans.npy", _span_table(spans, doc_of, bases, maps))
    np.save(tmp / "chunk-vectors.npy", batch.chunk_vectors.reshape(-1, dim).astype(np.float32))
    save_vectors(tmp, batch.sentence_vectors.reshape(-1, dim))
    _save_members(tmp, batch.inside)
    save_sentence_keys(tmp, np.array([text_key(s.text) for s in batch.sentences], dtype=np.uint64))
    Postings.build(c.text for c in batch.chunks).save(tmp)
    counts: Counter[str] = Counter()
    for s in batch.sentences:
        counts.update(terms(s.text))
    _write_json(tmp / "idf.json", {"size": len(batch.sentences), "counts": counts})
    write_faiss(tmp / FAISS_FILE, np.load(tmp / "chunk-vectors.npy", mmap_mode="r"), spec=faiss_spec)
    meta = _meta(batch.docs, len(batch.chunks), len(batch.sentences), faiss_spec)
    _write_json(tmp / META, meta)
    _write_json(tmp / LOCATIONS, meta["locations"])
    write_table(tmp, [d.source for d in batch.docs], [d.stat for d in batch.docs], [d.sha256 for d in batch.docs])
    finish(tmp, folder)


def _meta(docs: Sequence[NewDoc], chunks: int, sentences: int, spec: str) -> dict[str, Any]:
    return {
        "chunks": chunks,
        "sentences": sentences,
        "faiss": spec,
        "sources": [d.source for d in docs],
        "sha256": [d.sha256 for d in docs],
        "indexed_at": [d.indexed_at for d in docs],
        "stat": [list(d.stat) for d in docs],
        "locations": {d.source: d.locations for d in docs if d.locations},
    }


def _byte_offsets(text: str) -> np.ndarray | None:
    """UTF-8 byte offset of each character position of `text` (None when ASCII: the same numbers)."""
    if text.isascii():
        return None
    points = np.frombuffer(text.encode("utf-32-le", "surrogatepass"), dtype=np.uint32)
    widths = 1 + (points >= 0x80) + (points >= 0x800) + (points >= 0x10000)
    return np.concatenate([[0], np.cumsum(widths)]).astype(np.int64)


def _span_table(
    spans: Sequence[Span], doc_of: dict[str, int], bases: list[int], maps: list[np.ndarray | None]
) -> np.ndarray:
    """Per span: (document, char start, char end, byte start, byte end in text.bin)."""
    table = np.zeros((len(spans), 5), dtype=np.int64)
    for i, s in enumerate(spans):
        d = doc_of[s.source]
        offsets = maps[d]
        a, b = (s.start, s.end) if offsets is None else (int(offsets[s.start]), int(offsets[s.end]))
        table[i] = (d, s.start, s.end, bases[d] + a, bases[d] + b)
    return table


def _save_members(folder: Path, inside: Sequence[Sequence[int]]) -> None:
    """The sentences of each chunk as CSR arrays (`chunk-sentences-indptr.npy`, `chunk-sentences.npy`)."""
    sizes = np.array([len(m) for m in inside], dtype=np.int64)
    np.save(folder / "chunk-sentences-indptr.npy", np.concatenate([[0], np.cumsum(sizes)]).astype(np.int64))
    flat = [i for m in inside for i in m]
    np.save(folder / "chunk-sentences.npy", np.array(flat, dtype=np.int64))


def text_key(text: str) -> int:
    """A 64-bit key of a sentence's text, to find the sentences quoted by an earlier answer without a scan."""
    return int.from_bytes(hashlib.blake2b(text.encode("utf-8", "surrogatepass"), digest_size=8).digest(), "little")


def save_sentence_keys(folder: Path, keys: np.ndarray) -> None:
    """Each sentence's text key, sorted (`sentence-keys.npy`), with the sentence rows in that order."""
    order = np.argsort(keys, kind="stable")
    np.save(folder / "sentence-keys.npy", keys[order])
    np.save(folder / "sentence-key-rows.npy", order.astype(np.int64))


def write_faiss(path: Path, vectors: np.ndarray, *, spec: str) -> None:
    """A FAISS index of `vectors` (inner product; IVF lists trained on a sample), written as llama-index's
    FaissVectorStore persists one (`faiss.write_index`), without importing llama-index for it.

    `vectors` may be memory-mapped: they are read a slice at a time and their pages handed back (index/npyfiles.py).
    """
    import faiss

    dim = vectors.shape[1]
    index = faiss.index_factory(dim, spec, faiss.METRIC_INNER_PRODUCT)
    if not index.is_trained:  # IVF: learn the lists from a sample of 50 vectors per list (faiss asks for >= 39)
        sample = np.random.default_rng(0).permutation(len(vectors))[: 50 * faiss.extract_index_ivf(index).nlist]
        index.train(_gather(vectors, np.sort(sample)))
    for a, b in slices(len(vectors)):
        index.add(np.ascontiguousarray(vectors[a:b], dtype=np.float32))
        release(vectors)
    faiss.write_index(index, str(path))
    if spec == "Flat" and len(vectors):
        write_codes(path.with_name(CODES_FILE), vectors)


def _gather(vectors: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """`vectors[rows]` (rows ascending) as one array in memory, read a slice at a time."""
    out = np.empty((len(rows), vectors.shape[1]), dtype=np.float32)
    for a, b in slices(len(vectors)):
        lo, hi = np.searchsorted(rows, [a, b])
        out[lo:hi] = vectors[rows[lo:hi]]
        release(vectors)
    return out


def add_tables(segment: Segment) -> None:
    """Write the files a segment written before them lacks into its folder: its title table (index/search/titles.py)
    and locations.json (meta.json's locations alone).

    Both depend on the segment's own files alone, so a reader that computed them has the same; they are written under
    temporary names, flushed, then renamed, the title terms last (readers look for that one).
    """
    names = [n for n in (INDPTR_FILE, DOCS_FILE, TERMS_FILE, LOCATIONS) if not (segment.folder / n).exists()]
    if not names:
        return
    tmp = segment.folder / ".tmp-tables"
    tmp.mkdir(exist_ok=True)
    try:
        segment.titles.save(tmp)
        _write_json(tmp / LOCATIONS, segment.locations)
        for name in names:
            with open(tmp / name, "rb") as fh:
                os.fsync(fh.fileno())
        for name in sorted(names, key=lambda n: n == TERMS_FILE):
            os.replace(tmp / name, segment.folder / name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def finish(tmp: Path, folder: Path) -> None:
    """Flush every file of a finished segment, then give it its final name (a reader never sees half of one)."""
    for path in tmp.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())
    os.replace(tmp, folder)


def _write_json(path: Path, value: Any) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(value, fh, ensure_ascii=False)


def _mapped(path: Path) -> np.ndarray:
    """A .npy file memory-mapped, as a plain array (indexing a np.memmap costs ten times more)."""
    return np.asarray(np.load(path, mmap_mode="r"))


_open: weakref.WeakValueDictionary[Path, Segment] = weakref.WeakValueDictionary()
_open_lock = threading.Lock()


def open_segment(folder: Path) -> Segment:
    """The segment at `folder`, shared while any loaded version uses it (segments never change, so a server that
    follows a new version reopens only the new segments)."""
    key = folder.resolve()
    with _open_lock:
        segment = _open.get(key)
        if segment is None:
            segment = _open[key] = Segment(folder)
        return segment


class Segment:
    """An open segment: everything memory-mapped; rows are local (0 .. chunks-1, 0 .. sentences-1)."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.name = folder.name
        self.doc_bytes = np.load(
            folder / "docs.npy", mmap_mode="r"
        )  # where each document starts in text.bin, and the end
        size = int(self.doc_bytes[-1])
        self.blob = (
            np.asarray(np.memmap(folder / "text.bin", dtype=np.uint8, mode="r")) if size else np.zeros(0, np.uint8)
        )
        self.chunk_spans = _mapped(folder / "chunk-spans.npy")
        self.sentence_spans = _mapped(folder / "sentence-spans.npy")
        self.chunk_vectors = _mapped(folder / "chunk-vectors.npy")
        self.sentence_vectors = SentenceVectors.open(folder)
        self.members_indptr = _mapped(folder / "chunk-sentences-indptr.npy")
        self.members = _mapped(folder / "chunk-sentences.npy")
        self.sentence_keys = _mapped(folder / "sentence-keys.npy")
        self.sentence_key_rows = _mapped(folder / "sentence-key-rows.npy")

    def read_randomly(self, on: bool = True) -> None:
        """Tell the kernel that the maps answering questions are read a few rows at a time (MADV_RANDOM: no
        readahead, index/npyfiles.py `advise`), or (`on` False) give the readahead back for a merge's scans."""
        how = mmap.MADV_RANDOM if on else mmap.MADV_NORMAL
        arrays = [self.blob, self.chunk_spans, self.sentence_spans, self.chunk_vectors, self.sentence_vectors.array,
                  self.members_indptr, self.members, self.sentence_keys, self.sentence_key_rows]  # fmt: skip
        advise(*arrays, self.postings.indptr, self.postings.rows, self.postings.tf, how=how)

    @cached_property
    def meta(self) -> dict[str, Any]:
        """Per document: sha256, when indexed, stat, locations (read when first asked for: it can be large; from the
        file `keep_meta` opened, if it did, so it is read even once a later version has deleted it)."""
        kept = self.__dict__.pop("_meta_file", None)
        if kept is None:
            return dict(json.loads((self.folder / META).read_text(encoding="utf-8")))
        with kept:
            return dict(json.loads(kept.read().decode("utf-8")))

    def keep_meta(self) -> None:
        """Open meta.json now, to read it when first asked for (at 1M chunks, 47 MB of JSON a load parsed before)."""
        if "meta" not in self.__dict__ and "_meta_file" not in self.__dict__:
            self.__dict__["_meta_file"] = open(self.folder / META, "rb")  # noqa: SIM115 (closed when read)

    @cached_property
    def locations(self) -> dict[str, Any]:
        """Per source with any, its page and heading locations (locations.json, or meta.json's in an older segment)."""
        try:
            return dict(json.loads((self.folder / LOCATIONS).read_text(encoding="utf-8")))
        except FileNotFoundError:
            return dict(self.meta["locations"])

    @cached_property
    def sources(self) -> list[str]:
        """Each document's source, from the segment's file table (index/store/filetable.py) or, if it has none,
        meta.json."""
        found = read_sources(self.folder, count=len(self.doc_bytes) - 1)
        return self.meta["sources"] if found is None else found

    @cached_property
    def titles(self) -> TitleTable:
        """Its documents by the words of their file names (index/search/titles.py)."""
        return TitleTable.load(self.folder, self.sources)

    @property
    def chunk_count(self) -> int:
        return len(self.chunk_spans)

    @property
    def sentence_count(self) -> int:
        return len(self.sentence_spans)

    def span(self, table: np.ndarray, row: int) -> Span:
        """The chunk or sentence at local `row` of `table` (chunk_spans or sentence_spans)."""
        d, start, end, a, b = table[row].tolist()
        return Span(self.sources[d], bytes(self.blob[a:b]).decode("utf-8", "surrogatepass"), start, end)

    def document_text(self, d: int) -> str:
        return bytes(self.blob[int(self.doc_bytes[d]) : int(self.doc_bytes[d + 1])]).decode("utf-8", "surrogatepass")

    def sentences_with_text(self, text: str) -> list[int]:
        """Local rows of the sentences whose text is `text`, in order."""
        key = np.uint64(text_key(text))
        a, b = np.searchsorted(self.sentence_keys, key), np.searchsorted(self.sentence_keys, key, side="right")
        rows = sorted(int(r) for r in self.sentence_key_rows[a:b])
        return [r for r in rows if self.span(self.sentence_spans, r).text == text]

    def chunk_rows_of(self, d: int) -> range:
        """Local rows of document `d`'s chunks (a segment stores each document's chunks together, in order)."""
        docs = self.chunk_spans[:, 0]
        return range(int(np.searchsorted(docs, d)), int(np.searchsorted(docs, d, side="right")))

    def chunk_members(self, row: int) -> np.ndarray:
        """Local sentence rows of chunk `row`."""
        return np.asarray(self.members[int(self.members_indptr[row]) : int(self.members_indptr[row + 1])])

    @cached_property
    def postings(self) -> Postings:
        return Postings.load(self.folder)

    @cached_property
    def idf(self) -> dict[str, Any]:
        value: dict[str, Any] = json.loads((self.folder / "idf.json").read_text(encoding="utf-8"))
        return value

    @cached_property
    def dense(self) -> Any:
        from index.search.vectorstores import ExactSearch, FaissSearch

        if (self.folder / CODES_FILE).exists():
            return ExactSearch(self.folder / FAISS_FILE, self.folder / CODES_FILE, vectors=self.chunk_vectors)
        return FaissSearch(self.folder / FAISS_FILE)

    def rows_of(self, table: np.ndarray, docs: Sequence[int]) -> np.ndarray:
        """Local rows of `table` whose document is one of `docs`."""
        return np.flatnonzero(np.isin(np.asarray(table[:, 0]), np.asarray(docs, dtype=np.int64)))
