"""Publish a local index version to Milvus: insert what is new, write the state, remove what readers no longer use.

The writer keeps its segment folder (what the next update diffs against); readers need only Milvus
(index/milvus/views.py). Documents are matched by source and sha256 with the live state in Milvus, so an update
inserts only new or changed documents, whatever the local folder held before.
"""

from __future__ import annotations

import json
import time
from collections.abc import Sequence
from typing import Any

from index.milvus.collections import (
    BATCH,
    Names,
    client,
    doc_key,
    document_rows,
    drop_collections,
    ensure_collections,
    live_documents,
    read_state,
    write_state,
)
from index.store.views import Layout, vocabulary


def publish(
    config: dict[str, Any], layout: Layout, dead_idf: Sequence[dict[str, Any]], roots: list[str], *, rebuild: bool
) -> int:
    """Make `layout` (a local version's live documents) the live index in Milvus; returns the new version number.

    `config` is the IndexConfig as a dict (milvus_uri and milvus_collection say where).
    """
    c, names = client(config["milvus_uri"]), Names(config["milvus_collection"])
    old = read_state(c, names)
    settings = {k: v for k, v in config.items() if k not in ("milvus_uri", "milvus_collection")}
    if old is not None and old["config"]["dim"] != config["dim"]:
        drop_collections(c, names)
        old = None
    ensure_collections(c, names, int(config["dim"]))
    version = (int(old["version"]) if old else 0) + 1
    for name in (names.chunks, names.sentences):
        c.delete(name, filter=f"version >= {version}")  # a killed writer's rows
        if old and old.get("dead"):
            c.delete(name, filter=f"doc in {json.dumps(old['dead'])}")  # deleted by the previous version
    reuse = old is not None and not rebuild and old["config"] == settings
    known = {(d["source"], d["sha256"]): d["key"] for d in old["docs"]} if old and reuse else {}
    docs, used = _insert(c, names, layout, version, known)
    for name in (names.chunks, names.sentences):
        c.flush(name)  # sealed: Milvus Lite otherwise rebuilds its indexes of unflushed rows at every search
    kept = {d["key"] for d in docs}
    versions = {d["key"].split("-")[0] for d in docs}
    spans = {v: n for v, n in (old["ids"] if old and reuse else {}).items() if v in versions}
    vocab = vocabulary(layout, dead_idf)
    write_state(c, names, {
        "version": version, "config": settings, "roots": roots, "docs": docs,
        "dead": sorted(d["key"] for d in (old["docs"] if old else []) if d["key"] not in kept),
        "chunks": sum(d["chunks"] for d in docs), "idf": {"size": vocab.size, "counts": vocab.counts},
        "ids": {**spans, **({str(version): used} if str(version) in versions else {})},
        "written": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    })  # fmt: skip
    return version


def _insert(
    c: Any, names: Names, layout: Layout, version: int, known: dict[tuple[str, str], str]
) -> tuple[list[dict[str, Any]], list[int]]:
    """Insert the rows of every live document Milvus does not hold yet; return every live document's record and the
    chunk and sentence numbers used (ids below `version << 32 | n`)."""
    docs: list[dict[str, Any]] = []
    chunks: list[dict[str, Any]] = []
    sentences: list[dict[str, Any]] = []
    next_ids = [1, 0]
    for segment, d in live_documents(layout):
        source, sha = segment.sources[d], segment.meta["sha256"][d]
        key = known.get((source, sha))
        count = len(segment.rows_of(segment.chunk_spans, [d]))
        if key is None:
            key = doc_key(version, source, sha)
            new_chunks, new_sentences = document_rows(segment, d, version=version, key=key, next_ids=next_ids)
            chunks += new_chunks
            sentences += new_sentences
            if len(chunks) + len(sentences) >= BATCH:
                _flush(c, names, chunks, sentences)
        docs.append({"key": key, "source": source, "sha256": sha, "indexed_at": segment.meta["indexed_at"][d],
                     "locations": segment.meta["locations"].get(source), "chunks": count})  # fmt: skip
    _flush(c, names, chunks, sentences)
    return docs, next_ids


def _flush(c: Any, names: Names, chunks: list[dict[str, Any]], sentences: list[dict[str, Any]]) -> None:
    """Insert the pending rows and clear the lists."""
    for name, rows in ((names.chunks, chunks), (names.sentences, sentences)):
        for at in range(0, len(rows), BATCH):
            c.insert(name, rows[at : at + BATCH])
        rows.clear()
