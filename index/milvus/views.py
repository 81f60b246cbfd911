"""An index read from Milvus alone: rows are Milvus ids, fetched when asked for and kept for the loaded version.

Searches (dense and BM25) run in Milvus over the rows the loaded state sees (index/milvus/collections.py live_filter)
and bring back the rows they found; a chunk's sentences are fetched in one query with the sentence before them. Nothing
of the corpus is read from local files: a server needs only the Milvus URI and the collection prefix.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator, Sequence
from functools import cache
from pathlib import Path
from typing import Any, cast, overload

import numpy as np

from index.documents.chunking import Span
from index.errors import IndexMismatch, IndexNotFound
from index.milvus.collections import CHUNK_FIELDS, SENTENCE_FIELDS, SHIFT, Names, live_filter
from index.search.lexical import tokens
from index.store.reading import StoredIndex

BLANK = Span("", "", 0, 0)
CACHE_ROWS = 200_000  # rows kept per collection before the cache starts over
SCAN_IDS = 8_192  # ids per query when reading every row (under Milvus's 16,384 rows a query)


class Rows:
    """Rows of one collection by id, fetched on demand and cached (thread-safe)."""

    def __init__(self, c: Any, name: str, fields: list[str], state: dict[str, Any], *, sentences: bool) -> None:
        self.c, self.name, self.fields, self.where = c, name, fields, live_filter(state)
        self.ranges = [(int(v) << SHIFT, int(n[1 if sentences else 0])) for v, n in sorted(state["ids"].items())]
        self.cache: dict[int, dict[str, Any]] = {}
        self.lock = threading.Lock()

    def keep(self, rows: Sequence[dict[str, Any]]) -> None:
        with self.lock:
            if len(self.cache) > CACHE_ROWS:
                self.cache.clear()
            self.cache.update({int(r["id"]): r for r in rows})

    def get(self, row: int) -> dict[str, Any] | None:
        if row not in self.cache:
            self.keep(self.c.query(self.name, ids=[row], output_fields=self.fields))
        return self.cache.get(row)

    def fetch_range(self, lo: int, hi: int) -> None:
        """Fetch rows lo <= id < hi not cached yet, in one query by ids (a range filter scans every row in Lite)."""
        missing = [i for i in range(lo, hi) if i not in self.cache]
        if missing:
            self.keep(self.c.query(self.name, ids=missing, output_fields=self.fields))

    def ids_where(self, field: str, value: str) -> list[int]:
        """Ids of the live rows whose `field` is exactly `value`, in order."""
        found = self.c.query(self.name, filter=f"{self.where} and {field} == {json.dumps(value)}", output_fields=["id"])
        return sorted(int(r["id"]) for r in found)

    def scan(self) -> Iterator[dict[str, Any]]:
        """Every live row, in id order, a window of ids per query (Milvus Lite has no query iterator)."""
        fields = [f for f in self.fields if f != "dense"]
        for base, used in self.ranges:
            for at in range(base, base + used + 1, SCAN_IDS):
                where = f"{self.where} and id >= {at} and id < {at + SCAN_IDS}"
                yield from sorted(
                    self.c.query(self.name, filter=where, output_fields=fields), key=lambda r: int(r["id"])
                )


def _span(row: dict[str, Any] | None) -> Span:
    return BLANK if row is None else Span(row["source"], row["text"], int(row["start"]), int(row["end"]))


class MilvusSpans(Sequence[Span]):
    """The live chunks (or sentences) as a sequence indexed by Milvus id; an id holding nothing reads as a blank
    span (the gap before each document's first sentence)."""

    def __init__(self, rows: Rows, count: int) -> None:
        self.rows, self.size = rows, count

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, i: int) -> Span: ...

    @overload
    def __getitem__(self, i: slice) -> list[Span]: ...

    def __getitem__(self, i: int | slice) -> Span | list[Span]:
        if isinstance(i, slice):
            raise TypeError("Milvus rows are ids: index them one at a time")
        return _span(self.rows.get(int(i)))

    def __iter__(self) -> Iterator[Span]:
        return (_span(r) for r in self.rows.scan())

    def numbered(self) -> Iterator[tuple[int, Span]]:
        """(id, span) of every live row, in id order (what `enumerate` gives for positional rows)."""
        return ((int(r["id"]), _span(r)) for r in self.rows.scan())


class MilvusVectors:
    """The dense vectors of rows: `v[i]` a row, `v[[i, j]]` rows."""

    def __init__(self, rows: Rows, dim: int, count: int) -> None:
        self.rows, self.dim, self.size = rows, dim, count

    def __len__(self) -> int:
        return self.size

    @property
    def shape(self) -> tuple[int, int]:
        return self.size, self.dim

    def __getitem__(self, i: Any) -> np.ndarray:
        if isinstance(i, (int, np.integer)):
            row = self.rows.get(int(i))
            return np.asarray(row["dense"] if row else np.zeros(self.dim), dtype=np.float32)
        return np.array([self[int(r)] for r in i], dtype=np.float32).reshape(-1, self.dim)


class MilvusChunkSentences(Sequence[list[int]]):
    """For each chunk id, the ids of its sentences (fetched with the one before them, in one query)."""

    def __init__(self, chunks: Rows, sentences: Rows, count: int) -> None:
        self.chunks, self.sentences, self.size = chunks, sentences, count

    def __len__(self) -> int:
        return self.size

    @overload
    def __getitem__(self, i: int) -> list[int]: ...

    @overload
    def __getitem__(self, i: slice) -> list[list[int]]: ...

    def __getitem__(self, i: int | slice) -> list[int] | list[list[int]]:
        if isinstance(i, slice):
            raise TypeError("Milvus rows are ids: index them one at a time")
        row = self.chunks.get(int(i))
        if row is None or int(row["s_hi"]) <= int(row["s_lo"]):
            return []
        lo, hi = int(row["s_lo"]), int(row["s_hi"])
        self.sentences.fetch_range(lo - 1, hi)
        return list(range(lo, hi))


class MilvusSearch:
    """Dense and BM25 search over the live chunks, in Milvus; found rows are cached for reading."""

    def __init__(self, c: Any, names: Names, state: dict[str, Any], chunks: Rows) -> None:
        self.c, self.name, self.where, self.chunks = c, names.chunks, live_filter(state), chunks

    def _search(self, data: Any, field: str, metric: str, k: int) -> list[tuple[int, float]]:
        found = self.c.search(self.name, data=[data], anns_field=field, limit=k, filter=self.where,
                              search_params={"metric_type": metric}, output_fields=CHUNK_FIELDS[1:])  # fmt: skip
        hits = found[0] if found else []
        self.chunks.keep([{"id": h["id"], **h["entity"]} for h in hits])
        return [(int(h["id"]), float(h["distance"])) for h in hits]


class MilvusDense(MilvusSearch):
    def search(self, vector: np.ndarray, *, k: int) -> list[tuple[int, float]]:
        """Nearest chunks by inner product (cosine: vectors are normalised), best first."""
        return self._search([float(x) for x in vector], "dense", "IP", k)


class MilvusLexical(MilvusSearch):
    def search(self, text: str, *, k: int) -> list[tuple[int, float]]:
        """BM25 over index/search/lexical.py's tokens (stemmed, stop words out), as the chunks' `terms` were written."""
        query = " ".join(dict.fromkeys(tokens(text)))  # each term once, as index/search/lexical.py scores a query
        if not query:
            return []
        hits = self._search(query, "sparse", "BM25", k)
        return sorted(((r, abs(s)) for r, s in hits), key=lambda h: -h[1])  # Milvus Lite reports BM25 negated


def views(c: Any, names: Names, state: dict[str, Any]) -> dict[str, Any]:
    """The StoredIndex fields read from Milvus for `state`."""
    dim = int(state["config"]["dim"])
    chunks = Rows(c, names.chunks, CHUNK_FIELDS, state, sentences=False)
    sentences = Rows(c, names.sentences, SENTENCE_FIELDS, state, sentences=True)
    n_chunks, n_sentences = int(state["chunks"]), int(state["idf"]["size"])
    return {
        "dense": MilvusDense(c, names, state, chunks),
        "lexical": MilvusLexical(c, names, state, chunks),
        "chunks": MilvusSpans(chunks, n_chunks),
        "chunk_vectors": MilvusVectors(chunks, dim, n_chunks),
        "sentences": MilvusSpans(sentences, n_sentences),
        "sentence_vectors": MilvusVectors(sentences, dim, n_sentences),
        "chunk_sentences": MilvusChunkSentences(chunks, sentences, n_chunks),
    }


def milvus_version(config: Any) -> str | None:
    """The live version in Milvus as `milvus-<n>` (None if there is no index): one small query."""
    from index.milvus.collections import client, live_version

    version = live_version(client(config.milvus_uri), Names(config.milvus_collection))
    return None if version is None else f"milvus-{version}"


def load_milvus(index_dir: Path, config: Any, *, expect: Any = None) -> StoredIndex:
    """The live index in Milvus as a StoredIndex (its path `index_dir/milvus-<n>` names the version, nothing local)."""
    from index.documents.locations import Locations
    from index.milvus.collections import client, read_state
    from index.search.lexical import Vocabulary

    c, names = client(config.milvus_uri), Names(config.milvus_collection)
    state = read_state(c, names)
    if state is None:
        raise IndexNotFound(f"No citebot index in Milvus at {config.milvus_uri} (collections {names.prefix}_*): "
                            "run `citebot index <folder>` with CITEBOT_VECTOR_STORE=milvus")  # fmt: skip
    built = state["config"]
    if expect is not None and (built["embed_model"], built["dim"]) != (expect.embed_model, expect.dim):
        raise IndexMismatch(f"The index in Milvus at {config.milvus_uri} was built with {built['embed_model']} "
                            f"({built['dim']}-d), not {expect.embed_model} ({expect.dim}-d): "
                            "run `citebot index --rebuild`")  # fmt: skip
    docs = state["docs"]
    version = f"milvus-{state['version']}"
    manifest = {**built, "milvus_uri": config.milvus_uri, "milvus_collection": names.prefix, "roots": state["roots"],
                "files": {d["source"]: d["sha256"] for d in docs}, "_version": version}  # fmt: skip
    return _milvus_index()(
        path=index_dir / version,
        manifest=manifest,
        vocabulary=Vocabulary(state["idf"]["counts"], int(state["idf"]["size"])),
        locations={d["source"]: Locations.from_json(d["locations"]) for d in docs if d["locations"]},
        indexed_at={d["source"]: d["indexed_at"] for d in docs},
        chunk_counts={d["source"]: int(d["chunks"]) for d in docs},
        **views(c, names, state),
    )


@cache
def _milvus_index() -> type[StoredIndex]:
    """StoredIndex whose lookups by text and by source are Milvus queries."""

    class MilvusIndex(StoredIndex):
        def find_sentence(self, text: str) -> list[int]:
            """Ids of the live sentences whose text is exactly `text`, in order."""
            return cast(MilvusSpans, self.sentences).rows.ids_where("text", text)

        def chunks_of(self, source: str) -> list[int]:
            """Ids of a source's live chunks, in order."""
            return cast(MilvusSpans, self.chunks).rows.ids_where("source", source)

    return MilvusIndex
