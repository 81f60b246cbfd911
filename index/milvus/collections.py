"""Milvus holds the whole retrieval: chunk and sentence text, offsets, vectors, BM25, and the index's state.

Three collections per index (names `<prefix>_chunks`, `<prefix>_sentences`, `<prefix>_state`):
- chunks: id, doc, version, source, start, end, text, `terms` (index/search/lexical.py's stemmed tokens, joined by
  spaces, analysed by Milvus's standard tokenizer into a BM25 sparse vector by a Milvus function), s_lo/s_hi (the ids
  of the sentences inside the chunk), dense (the chunk vector);
- sentences: id, doc, version, source, start, end, text, dense;
- state: the index's state as JSON in parts (version, settings, live documents with their sha256, when indexed,
  locations and chunk counts, the documents deleted by that version, sentence-IDF counts), its head row written last.

An update inserts the rows of new or changed documents under the next version, then writes that version's state:
readers search `version <= theirs and doc not in theirs' dead`, so they never see a half-written update, and rows of
deleted documents are removed one update later (a reader of the previous version still finds them). Nothing is ever
dropped under a reader. Ids are `version << 32 | n`, each document's sentences numbered consecutively after a gap, so
`sentences[i - 1]` is the previous sentence of the same document or a blank span.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

from index.documents.chunking import Span
from index.errors import CitebotError
from index.search.lexical import tokens
from index.store.segments import Segment
from index.store.views import Layout

MAX_CHARS = 16_000  # per text field: at most 4 bytes a character fits Milvus's 65,535-byte VARCHAR
SHIFT = 32  # row ids: version << SHIFT | number within the version
BATCH = 512  # rows per insert
CHUNK_FIELDS = ["id", "source", "start", "end", "text", "s_lo", "s_hi", "dense"]
SENTENCE_FIELDS = ["id", "source", "start", "end", "text", "dense"]


@lru_cache(maxsize=8)
def client(uri: str) -> Any:
    """A MilvusClient for `uri` (a Milvus Lite `.db` folder, opened by one process at a time, or http://host:port)."""
    try:
        from pymilvus import MilvusClient
    except ImportError as exc:
        raise CitebotError("Milvus support is not installed: run `pip install -e .[milvus]`") from exc
    if uri.endswith(".db"):
        Path(uri).parent.mkdir(parents=True, exist_ok=True)
    return MilvusClient(uri=uri)


@dataclass(frozen=True)
class Names:
    """The collections of one index in Milvus."""

    prefix: str

    @property
    def chunks(self) -> str:
        return f"{self.prefix}_chunks"

    @property
    def sentences(self) -> str:
        return f"{self.prefix}_sentences"

    @property
    def state(self) -> str:
        return f"{self.prefix}_state"


def live_filter(state: dict[str, Any]) -> str:
    """The rows a reader of `state` sees: inserted by it or before, not of a document it deleted.

    Example: {"version": 3, "dead": ["2-ab"]} -> 'version <= 3 and doc not in ["2-ab"]'
    """
    dead = state.get("dead", [])
    return f"version <= {int(state['version'])}" + (f" and doc not in {json.dumps(dead)}" if dead else "")


def read_state(c: Any, names: Names) -> dict[str, Any] | None:
    """The live state (the highest version whose head row is written), or None if there is no index."""
    if not c.has_collection(names.state):
        return None
    heads = c.query(names.state, filter="part == 0", output_fields=["version"])
    if not heads:
        return None
    version = max(int(h["version"]) for h in heads)
    parts = c.query(names.state, filter=f"version == {version}", output_fields=["part", "blob"])
    blob = "".join(p["blob"] for p in sorted(parts, key=lambda p: int(p["part"])) if int(p["part"]) > 0)
    state: dict[str, Any] = json.loads(blob)
    return state


def live_version(c: Any, names: Names) -> int | None:
    """The live version number (one small query), or None if there is no index."""
    if not c.has_collection(names.state):
        return None
    heads = c.query(names.state, filter="part == 0", output_fields=["version"])
    return max((int(h["version"]) for h in heads), default=None)


def write_state(c: Any, names: Names, state: dict[str, Any]) -> None:
    """Write `state` in parts, then its head row (readers switch to it then), then drop states two versions old."""
    version = int(state["version"])
    blob = json.dumps(state, ensure_ascii=False)
    parts = [blob[at : at + MAX_CHARS] for at in range(0, len(blob), MAX_CHARS)] or [""]
    rows = [_state_row(version, i + 1, p) for i, p in enumerate(parts)]
    c.delete(names.state, filter=f"version >= {version}")  # a killed writer's parts
    for at in range(0, len(rows), BATCH):
        c.insert(names.state, rows[at : at + BATCH])
    c.insert(names.state, [_state_row(version, 0, "")])
    c.delete(names.state, filter=f"version < {version - 1}")
    c.flush(names.state)


def _state_row(version: int, part: int, blob: str) -> dict[str, Any]:
    return {"id": (version << SHIFT) | part, "version": version, "part": part, "blob": blob, "v": [0.0, 0.0]}


def ensure_collections(c: Any, names: Names, dim: int) -> None:
    """Create the three collections if missing (BM25 function, indexes, strong consistency) and load them."""
    from pymilvus import DataType, Function, FunctionType

    for name, kind in ((names.chunks, "chunks"), (names.sentences, "sentences"), (names.state, "state")):
        if c.has_collection(name):
            c.load_collection(name)
            continue
        schema = c.create_schema(auto_id=False)
        schema.add_field("id", DataType.INT64, is_primary=True)
        schema.add_field("version", DataType.INT64)
        index = c.prepare_index_params()
        if kind == "state":
            schema.add_field("part", DataType.INT64)
            schema.add_field("blob", DataType.VARCHAR, max_length=65_535)
            schema.add_field("v", DataType.FLOAT_VECTOR, dim=2)  # Milvus wants a vector field; unused
            index.add_index("v", index_type="FLAT", metric_type="L2")
        else:
            for field in ("doc", "source", "text"):
                schema.add_field(field, DataType.VARCHAR, max_length=65_535)
            for field in ("start", "end"):
                schema.add_field(field, DataType.INT64)
            schema.add_field("dense", DataType.FLOAT_VECTOR, dim=dim)
            index.add_index("dense", index_type="FLAT", metric_type="IP")
        if kind == "chunks":
            schema.add_field("terms", DataType.VARCHAR, max_length=65_535, enable_analyzer=True,
                             analyzer_params={"tokenizer": "standard"})  # fmt: skip
            schema.add_field("s_lo", DataType.INT64)
            schema.add_field("s_hi", DataType.INT64)
            schema.add_field("sparse", DataType.SPARSE_FLOAT_VECTOR)
            schema.add_function(Function(name="bm25", function_type=FunctionType.BM25, input_field_names=["terms"],
                                         output_field_names=["sparse"]))  # fmt: skip
            index.add_index("sparse", index_type="SPARSE_INVERTED_INDEX", metric_type="BM25",
                            params={"bm25_k1": 1.5, "bm25_b": 0.75})  # fmt: skip
        c.create_collection(name, schema=schema, index_params=index, consistency_level="Strong")
        c.load_collection(name)


def drop_collections(c: Any, names: Names) -> None:
    """Drop an index's collections (only when rebuilt with another vector size: its readers are refused anyway)."""
    for name in (names.chunks, names.sentences, names.state):
        if c.has_collection(name):
            c.drop_collection(name)


def doc_key(version: int, source: str, sha256: str) -> str:
    """A document's rows' key: the version that inserted them and a digest of its name and content."""
    return f"{version}-{hashlib.sha256((source + chr(0) + sha256).encode()).hexdigest()[:16]}"


def clipped(span: Span) -> Span:
    """A span whose text fits a Milvus text field: longer ones keep their first MAX_CHARS characters (still verbatim:
    the end offset moves with the text)."""
    if len(span.text) <= MAX_CHARS:
        return span
    return Span(span.source, span.text[:MAX_CHARS], span.start, span.start + MAX_CHARS)


def document_rows(
    segment: Segment, d: int, *, version: int, key: str, next_ids: list[int]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The chunk and sentence rows of document `d` of `segment`; `next_ids` holds the next chunk and sentence number."""
    sentence_rows = segment.rows_of(segment.sentence_spans, [d])
    next_ids[1] += 1  # a gap: the sentence before a document's first is not the previous document's last
    ids = {int(r): (version << SHIFT) | (next_ids[1] + i) for i, r in enumerate(sentence_rows)}
    next_ids[1] += len(sentence_rows)
    sentences = [_row(clipped(segment.span(segment.sentence_spans, r)), ids[r], key, version,
                      segment.sentence_vectors[r]) for r in ids]  # fmt: skip
    chunks = []
    for r in segment.rows_of(segment.chunk_spans, [d]):
        span = clipped(segment.span(segment.chunk_spans, int(r)))
        members = [ids[int(m)] for m in segment.chunk_members(int(r))]
        row = _row(span, (version << SHIFT) | next_ids[0], key, version, segment.chunk_vectors[int(r)])
        next_ids[0] += 1
        lo, hi = (min(members), max(members) + 1) if members else (0, 0)
        chunks.append({**row, "terms": " ".join(tokens(span.text))[:MAX_CHARS], "s_lo": lo, "s_hi": hi})
    return chunks, sentences


def _row(span: Span, row_id: int, key: str, version: int, vector: Any) -> dict[str, Any]:
    return {"id": row_id, "doc": key, "version": version, "source": span.source, "start": span.start,
            "end": span.end, "text": span.text, "dense": [float(x) for x in vector]}  # fmt: skip


def live_documents(layout: Layout) -> Iterator[tuple[Segment, int]]:
    """Every live document of a local version: (segment, its number there)."""
    for segment, dead in zip(layout.segments, layout.dead, strict=True):
        gone = set(dead)
        yield from ((segment, d) for d in range(len(segment.sources)) if d not in gone)
