"""Build, update and load the persisted index: chunk vectors in FAISS (via llama-index), sentence vectors beside it.

Layout of `index_dir`: a `CURRENT` file naming the live version folder, which holds `chunks.faiss` (written by
llama-index's FaissVectorStore; or a Milvus collection), `chunks.json`/`chunks.npy`, `sentences.json`/`sentences.npy`,
the BM25 arrays (`bm25*`), `vocabulary.json` (sentence IDF) and `manifest.json`. A new version is written in full
before `CURRENT` is swapped atomically, so an interrupted run leaves the previous index loadable. Loading reads these
files as they are: no llama-index docstore, whose `.docs` rebuilds every node on each read (issue 11).
One writer at a time: an update holds `.write.lock` (index/locking.py); readers only follow `CURRENT`.
"""

from __future__ import annotations

import bisect
import hashlib
import json
import os
import shutil
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.chunking import Span, split_sentences, split_text
from index.errors import IndexMismatch, IndexNotFound
from index.lexical import BM25, Vocabulary
from index.loader import Document
from index.locations import Locations
from index.locking import write_lock
from index.vectors import Embed, TokenEmbed, vectorize

if TYPE_CHECKING:
    from llama_index.core.schema import TextNode

    from index.vectorstores import DenseSearch

FORMAT = 3  # 2: chunk vectors kept in chunks.npy beside any vector store; 3: chunks, BM25, IDF saved, no docstore
CURRENT = "CURRENT"
FAISS_FILE = "chunks.faiss"
LOCATIONS = "locations.json"  # {source: {"pages": [...], "headings": [[offset, path], ...]}}
INDEXED_AT = "indexed_at.json"  # {source: "2026-11-26T12:00:00Z"}


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
    """A loaded index: chunks (with vectors in FAISS) and sentences (with their own vectors)."""

    path: Path
    manifest: dict[str, Any]
    dense: DenseSearch
    lexical: BM25
    vocabulary: Vocabulary
    chunks: list[Span]
    chunk_ids: list[str]
    chunk_vectors: np.ndarray
    sentences: list[Span]
    sentence_vectors: np.ndarray
    chunk_sentences: list[list[int]] = field(default_factory=list)
    locations: dict[str, Locations] = field(default_factory=dict)  # per source, from locations.json
    indexed_at: dict[str, str] = field(default_factory=dict)  # per source: when its content was indexed (UTC ISO)


@dataclass(frozen=True)
class BuildReport:
    """What `build_index` did."""

    added: list[str]
    changed: list[str]
    removed: list[str]
    unchanged: list[str]
    embedded: int
    chunks: int


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
        return _build(
            documents, index_dir, config, embed=embed, embed_tokens=embed_tokens, rebuild=rebuild, roots=roots
        )


def _build(
    documents: Sequence[Document],
    index_dir: Path,
    config: IndexConfig,
    *,
    embed: Embed,
    embed_tokens: TokenEmbed | None,
    rebuild: bool,
    roots: Sequence[str],
) -> BuildReport:
    """build_index under the write lock."""
    files = {d.source: d.sha256 for d in documents}
    if not rebuild and _is_current(index_dir, config, files, list(roots)):
        return BuildReport([], [], [], sorted(files), 0, _chunk_count(index_dir))
    previous = None if rebuild else _load_previous(index_dir, config)
    old_files: dict[str, str] = previous.manifest["files"] if previous else {}
    reuse = {d.source for d in documents if old_files.get(d.source) == d.sha256}
    fresh = [d for d in documents if d.source not in reuse]
    new_chunks = [
        c for d in fresh for c in split_text(d.source, d.text, size=config.chunk_size, overlap=config.chunk_overlap)
    ]
    new_sents = [s for d in fresh for s in split_sentences(d.source, d.text)]
    inside = _sentences_of_chunks(new_chunks, new_sents)
    new_chunk_vecs, new_sent_vecs, embedded = vectorize(
        new_chunks, new_sents, inside, mode=config.chunk_vectors, embed=embed, embed_tokens=embed_tokens
    )
    none = np.zeros((0, config.dim), dtype=np.float32)
    old_chunks, old_chunk_vecs = (previous.chunks, previous.chunk_vectors) if previous else ([], none)
    old_sents, old_sent_vecs = (previous.sentences, previous.sentence_vectors) if previous else ([], none)
    chunks, chunk_vecs = _merge(old_chunks, old_chunk_vecs, reuse, new_chunks, new_chunk_vecs)
    sents, sent_vecs = _merge(old_sents, old_sent_vecs, reuse, new_sents, new_sent_vecs)
    sidecars = {
        LOCATIONS: {d.source: d.locations.to_json() for d in documents if d.locations},
        INDEXED_AT: _indexed_at(files, reuse, previous.indexed_at if previous else {}),
    }
    _write_version(index_dir, config, files, list(roots), (chunks, chunk_vecs), (sents, sent_vecs), sidecars)
    return BuildReport(
        added=sorted(s for s in files if s not in old_files),
        changed=sorted(s for s in files if s in old_files and s not in reuse),
        removed=sorted(s for s in old_files if s not in files),
        unchanged=sorted(reuse),
        embedded=embedded,
        chunks=len(chunks),
    )


def _merge(
    old: list[Span], old_vecs: np.ndarray, reuse: set[str], new: list[Span], new_vecs: np.ndarray
) -> tuple[list[Span], np.ndarray]:
    """Old spans (and vectors) of the unchanged sources in `reuse`, followed by the new ones.

    Example: old [a.txt#0, b.txt#0], reuse {"b.txt"}, new [c.txt#0] -> [b.txt#0, c.txt#0] with their vectors
    """
    keep = [i for i, span in enumerate(old) if span.source in reuse]
    parts = [v for v in (old_vecs[keep], new_vecs) if len(v)]
    vectors = np.vstack(parts) if parts else np.zeros((0, old_vecs.shape[-1]), dtype=np.float32)
    return [old[i] for i in keep] + list(new), vectors


def _write_version(
    index_dir: Path,
    config: IndexConfig,
    files: dict[str, str],
    roots: list[str],
    chunked: tuple[list[Span], np.ndarray],
    sentenced: tuple[list[Span], np.ndarray],
    sidecars: dict[str, Any] | None = None,
) -> None:
    """Write a complete new version folder, then point CURRENT at it and drop older versions.

    Called under the write lock, so any other `.tmp-*` folder is a killed writer's leftover and is removed too.
    """
    from index.vectorstores import drop_other_collections, new_store

    index_dir.mkdir(parents=True, exist_ok=True)
    (chunks, chunk_vecs), (sents, sent_vecs) = chunked, sentenced
    chunk_vecs = chunk_vecs.reshape(len(chunks), config.dim).astype(np.float32)
    version = f"v{time.time_ns()}-{os.getpid()}"
    tmp = index_dir / f".tmp-{version}"
    tmp.mkdir()
    nodes = [_to_node(c, v) for c, v in zip(chunks, chunk_vecs, strict=True)]
    collection = (
        f"citebot_{hashlib.sha1(str(index_dir.resolve()).encode()).hexdigest()[:8]}_{version.replace('-', '_')}"
    )
    store, record = new_store(
        config.vector_store, dim=config.dim, vectors=chunk_vecs, milvus_uri=config.milvus_uri, collection=collection
    )
    store.add(nodes)  # llama-index's vector store; every node carries its vector already
    if config.vector_store == "faiss":
        store.persist(persist_path=str(tmp / FAISS_FILE))
    np.save(tmp / "chunks.npy", chunk_vecs)
    _write_json(tmp / "chunks.json", [[c.source, c.start, c.end, c.text] for c in chunks])
    for name, value in (sidecars or {}).items():
        _write_json(tmp / name, value)
    _write_json(tmp / "sentences.json", [[s.source, s.start, s.end, s.text] for s in sents])
    np.save(tmp / "sentences.npy", sent_vecs.reshape(len(sents), config.dim) if sents else np.zeros((0, config.dim)))
    BM25.build(c.text for c in chunks).save(tmp)
    Vocabulary.build(s.text for s in sents).save(tmp / "vocabulary.json")
    chunk_ids = [n.node_id for n in nodes]
    manifest = {"format": FORMAT, **config.__dict__, **record, "roots": roots, "files": files, "chunk_ids": chunk_ids}
    _write_json(tmp / "manifest.json", manifest)
    _fsync_folder(tmp)
    os.replace(tmp, index_dir / version)
    _write_json(index_dir / f".{CURRENT}.tmp", version)
    os.replace(index_dir / f".{CURRENT}.tmp", index_dir / CURRENT)
    for old in index_dir.iterdir():
        if old.name != version and old.name.startswith(("v", ".tmp-v")) and old.is_dir():
            shutil.rmtree(old, ignore_errors=True)
    drop_other_collections(manifest)


def _fsync_folder(folder: Path) -> None:
    """Flush every file of a finished version folder, so the swap never points at a half-written one."""
    for path in folder.iterdir():
        with open(path, "rb") as fh:
            os.fsync(fh.fileno())


def _to_node(chunk: Span, vector: np.ndarray) -> TextNode:
    """A llama-index node for a chunk, with its offsets as metadata kept out of the embedded text."""
    from llama_index.core.schema import TextNode

    meta = {"source": chunk.source, "start": chunk.start, "end": chunk.end}
    node_id = hashlib.sha256(f"{chunk.source}\0{chunk.start}\0{chunk.text}".encode()).hexdigest()[:32]
    return TextNode(
        id_=node_id,
        text=chunk.text,
        metadata=meta,
        embedding=vector.tolist(),
        excluded_embed_metadata_keys=list(meta),
        excluded_llm_metadata_keys=list(meta),
    )


def _write_json(path: Path, value: Any) -> None:
    """Write JSON and fsync it, so a completed version is complete on disk."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(value, fh, ensure_ascii=False)
        fh.flush()
        os.fsync(fh.fileno())


def _is_current(index_dir: Path, config: IndexConfig, files: dict[str, str], roots: list[str]) -> bool:
    """True when the live index was built from exactly these files with this config (read from the manifest only).

    A version without locations.json (from an older citebot) is not current: the next run adds it, embedding nothing.
    """
    try:
        path, manifest = read_manifest(index_dir)
    except (IndexNotFound, IndexMismatch):
        return False
    same = _same_config(manifest, config) and manifest.get("files") == files and manifest.get("roots", []) == roots
    return same and (path / LOCATIONS).exists()


def _same_config(manifest: dict[str, Any], config: IndexConfig) -> bool:
    return all(manifest.get(k) == v for k, v in config.__dict__.items())


def _chunk_count(index_dir: Path) -> int:
    return len(read_manifest(index_dir)[1]["chunk_ids"])


def _load_previous(index_dir: Path, config: IndexConfig) -> StoredIndex | None:
    """The current index if it was built with the same config; otherwise None (a full rebuild)."""
    try:
        stored = load_index(index_dir)
    except (IndexNotFound, IndexMismatch):
        return None
    return stored if _same_config(stored.manifest, config) else None


def read_manifest(index_dir: Path) -> tuple[Path, dict[str, Any]]:
    """The live version folder and its manifest; raise IndexNotFound/IndexMismatch with what to run."""
    hint = f"run `citebot index` to build it at {index_dir}"
    try:
        version = _read_json(index_dir / CURRENT)
        path = index_dir / version
        manifest = _read_json(path / "manifest.json")
    except (OSError, ValueError, TypeError) as exc:
        raise IndexNotFound(f"No index at {index_dir} ({hint})") from exc
    if not isinstance(manifest, dict) or manifest.get("format", FORMAT + 1) > FORMAT:
        raise IndexMismatch(f"The index at {index_dir} was written by a newer citebot (upgrade citebot, or {hint})")
    if manifest["format"] < FORMAT:
        raise IndexMismatch(f"The index at {index_dir} was written by an older citebot: run `citebot index --rebuild`")
    return path, manifest


def live_version(index_dir: Path) -> str | None:
    """The version folder CURRENT names now (None if unreadable): a cheap check for a newer index."""
    try:
        version = _read_json(index_dir / CURRENT)
    except (OSError, ValueError):
        return None
    return version if isinstance(version, str) else None


def load_index(index_dir: Path, *, expect: IndexConfig | None = None) -> StoredIndex:
    """Load the live index; with `expect`, check it was built with that model and dimension."""
    path, manifest = read_manifest(index_dir)
    if expect is not None and (manifest["embed_model"], manifest["dim"]) != (expect.embed_model, expect.dim):
        raise IndexMismatch(
            f"The index at {index_dir} was built with {manifest['embed_model']} ({manifest['dim']}-d), "
            f"not {expect.embed_model} ({expect.dim}-d): run `citebot index --rebuild`"
        )
    try:
        return _load_version(path, manifest)
    except (OSError, ValueError, KeyError) as exc:
        raise IndexMismatch(f"The index at {index_dir} is damaged ({exc}): run `citebot index --rebuild`") from exc


def _load_version(path: Path, manifest: dict[str, Any]) -> StoredIndex:
    """Read one complete version folder: plain JSON and arrays, no llama-index (answering starts fast)."""
    from index.vectorstores import open_dense

    chunks = [Span(src, text, start, end) for src, start, end, text in _read_json(path / "chunks.json")]
    sentences = [Span(src, text, start, end) for src, start, end, text in _read_json(path / "sentences.json")]
    stored = StoredIndex(
        path=path,
        manifest=manifest,
        dense=open_dense(manifest, path / FAISS_FILE),
        lexical=BM25.load(path),
        vocabulary=Vocabulary.load(path / "vocabulary.json"),
        chunks=chunks,
        chunk_ids=manifest["chunk_ids"],
        chunk_vectors=_vectors(path / "chunks.npy"),
        sentences=sentences,
        sentence_vectors=_vectors(path / "sentences.npy"),
    )
    stored.chunk_sentences = _sentences_of_chunks(chunks, sentences)
    stored.locations = {source: Locations.from_json(v) for source, v in _read_sidecar(path, LOCATIONS).items()}
    stored.indexed_at = _read_sidecar(path, INDEXED_AT)
    return stored


def _vectors(path: Path) -> np.ndarray:
    """Float32 vectors, memory-mapped: answering reads only the rows of the passages it scores."""
    vectors: np.ndarray = np.load(path, mmap_mode="r")
    return vectors if vectors.dtype == np.float32 else vectors.astype(np.float32)


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8"))


def _read_sidecar(path: Path, name: str) -> dict[str, Any]:
    """A per-source JSON file of a version folder ({} for an index written before it existed)."""
    try:
        value = _read_json(path / name)
    except FileNotFoundError:
        return {}
    return value if isinstance(value, dict) else {}


def _indexed_at(files: dict[str, str], reuse: set[str], before: dict[str, str]) -> dict[str, str]:
    """When each source's current content was indexed: kept for unchanged sources, now for the others."""
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    return {s: before.get(s, now) if s in reuse else now for s in files}


def _sentences_of_chunks(chunks: list[Span], sentences: list[Span]) -> list[list[int]]:
    """For each chunk, the sentences that lie mostly inside it (a binary search per chunk: linear in the corpus).

    Example: chunk [0, 100) and sentences [0, 40), [41, 120) -> [[0]] (the second is mostly outside).
    """
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
