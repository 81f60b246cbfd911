"""The indexed files as compact tables, so an update compares a folder against the index without parsing JSON.

Each segment (index/store/segments.py) holds, per document, its source in `doc-sources.bin` (UTF-8, NUL-separated: no
path contains NUL) and its size, mtime_ns and sha256 in `doc-files.npy` (six int64 per document: size, mtime_ns, then
the digest's 32 bytes). A segment written before these files existed has only its meta.json: it is read instead
(slower, the same answer), so an older index updates as before and its tables appear as its segments are merged.
`LiveFiles` gathers a version's live documents from its segments' tables, minus the documents it deleted.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property
from itertools import repeat
from pathlib import Path
from typing import Any

import numpy as np

from index.search.titles import TitleTable

SOURCES_FILE = "doc-sources.bin"
FILES_FILE = "doc-files.npy"
META = "meta.json"  # index/store/segments.py's; read only for a segment without a table


def write_table(folder: Path, sources: Sequence[str], stats: Sequence[Sequence[int]], sha256: Sequence[str]) -> None:
    """Write a segment's file table into `folder` (not flushed: the segment's writer flushes every file)."""
    (folder / SOURCES_FILE).write_bytes("\0".join(sources).encode("utf-8", "surrogatepass"))
    table = np.zeros((len(sources), 6), dtype="<i8")
    if len(sources):
        table[:, :2] = np.asarray(stats, dtype=np.int64).reshape(-1, 2)
        table[:, 2:] = np.frombuffer(b"".join(bytes.fromhex(h) for h in sha256), dtype="<i8").reshape(-1, 4)
    np.save(folder / FILES_FILE, table)
    TitleTable.build(sources).save(folder)  # the words of the files' names, for questions that name one


def read_sources(folder: Path, count: int | None = None) -> list[str] | None:
    """A segment's sources from its table (None if it has none); `count` checks the number of documents."""
    try:
        data = (folder / SOURCES_FILE).read_bytes()
    except FileNotFoundError:
        return None
    sources = data.decode("utf-8", "surrogatepass").split("\0") if data else []
    if count is not None and len(sources) != count:
        raise ValueError(f"{folder / SOURCES_FILE} lists {len(sources)} documents, not {count}")
    return sources


def read_files(folder: Path) -> tuple[list[str], np.ndarray]:
    """A segment's sources and (size, mtime_ns, sha256 as 4 int64) per document, from its table or its meta.json."""
    sources = read_sources(folder)
    if sources is not None:
        table = np.load(folder / FILES_FILE)
        if len(table) != len(sources):
            raise ValueError(f"{folder} has {len(sources)} sources but {len(table)} file rows")
        return sources, table
    meta: dict[str, Any] = json.loads((folder / META).read_text(encoding="utf-8"))
    table = np.zeros((len(meta["sources"]), 6), dtype=np.int64)
    if len(table):
        table[:, :2] = np.asarray(meta["stat"], dtype=np.int64).reshape(-1, 2)
        digests = b"".join(bytes.fromhex(h) for h in meta["sha256"])
        table[:, 2:] = np.frombuffer(digests, dtype="<i8").reshape(-1, 4)
    return list(meta["sources"]), table


@dataclass(frozen=True)
class LiveFiles:
    """A version's live documents: source, segment and number in it, and (size, mtime_ns, sha256) when last read."""

    sources: list[str]
    segments: list[str]  # segment names; `segment` indexes them
    segment: np.ndarray  # per document
    doc: np.ndarray  # its number in its segment
    table: np.ndarray  # per document: size, mtime_ns, sha256 as four int64
    version: str | None = None  # the index version they were read from

    @cached_property
    def row(self) -> dict[str, int]:
        """Each source's row."""
        return dict(zip(self.sources, range(len(self.sources)), strict=True))

    def rows_of(self, sources: Sequence[str]) -> np.ndarray:
        """Each source's row, -1 for a source not indexed."""
        return np.fromiter(map(self.row.get, sources, repeat(-1)), dtype=np.int64, count=len(sources))

    def sha256(self, row: int) -> str:
        return self.table[row, 2:].astype("<i8").tobytes().hex()

    def where(self, row: int) -> tuple[str, int]:
        """The segment and document number of `row`."""
        return self.segments[int(self.segment[row])], int(self.doc[row])

    def same_stat(self, rows: np.ndarray, sizes: np.ndarray, mtimes: np.ndarray) -> np.ndarray:
        """Per row (-1: not indexed), whether the index has that size and mtime for it."""
        known = rows >= 0
        same = np.zeros(len(rows), dtype=bool)
        at = rows[known]
        same[known] = (self.table[at, 0] == sizes[known]) & (self.table[at, 1] == mtimes[known])
        return same


def live_files(folders: Sequence[Path], dead: Sequence[Sequence[int]]) -> LiveFiles:
    """The live documents of the segments at `folders`, minus each one's `dead` documents."""
    sources: list[str] = []
    segment, doc, tables = [], [], []
    for i, (folder, gone) in enumerate(zip(folders, dead, strict=True)):
        names, table = read_files(folder)
        keep = np.ones(len(names), dtype=bool)
        keep[np.asarray(gone, dtype=np.int64)] = False
        rows = np.flatnonzero(keep)
        sources += names if len(rows) == len(names) else [names[r] for r in rows]
        segment.append(np.full(len(rows), i, dtype=np.int64))
        doc.append(rows)
        tables.append(table[rows])
    empty = np.zeros(0, dtype=np.int64)
    return LiveFiles(
        sources,
        [f.name for f in folders],
        np.concatenate(segment) if segment else empty,
        np.concatenate(doc) if doc else empty,
        np.concatenate(tables) if tables else np.zeros((0, 6), dtype=np.int64),
    )
