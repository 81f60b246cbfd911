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
FEW = 8  # rows_of looks this many sources up one by one rather than through a dict of every indexed file
RESYNC = 64  # align looks this far ahead for where two lists agree again
DETOURS = 1024  # and gives up doing so after this many places where they disagree (a dict finds the rest)


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
        """Each source's row, -1 for a source not indexed (a few sources found by scanning the list, in C: no dict of
        every indexed file for them)."""
        if len(sources) <= FEW and "row" not in self.__dict__:
            return np.asarray([_position(self.sources, s) for s in sources], dtype=np.int64)
        return np.fromiter(map(self.row.get, sources, repeat(-1)), dtype=np.int64, count=len(sources))

    def rows_of_scan(self, sources: Sequence[str]) -> np.ndarray:
        """rows_of for a folder's scan, which names each file once, in about the order the index holds them: `align`."""
        return align(sources, self.sources)

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


def align(names: Sequence[str], known: Sequence[str]) -> np.ndarray:
    """Each name's position in `known` (-1: not in it), for names and `known` each holding a name once: what a dict of
    `known` gives, without one of every name when the two lists are mostly in the same order, as a folder's scan and
    the index's files are (segments hold files in the order they were scanned, new ones at the end). Runs the lists
    share are compared a slice at a time (in C); only the names outside them go through a dict.

    Example: align(["new", "a", "b", "c", "moved"], ["a", "b", "moved", "c", "gone"]) -> [-1, 0, 1, 3, 2]
    """
    rows = np.full(len(names), -1, dtype=np.int64)
    outside: tuple[list[int], list[int]] = ([], [])  # positions in `names` and in `known` not in a shared run
    i = j = detours = 0
    while i < len(names) and j < len(known) and detours <= DETOURS:
        run = _shared_run(names, i, known, j)
        rows[i : i + run] = np.arange(j, j + run)
        skip_names, skip_known = _resync(names, i + run, known, j + run)
        outside[0].extend(range(i + run, i + run + skip_names))
        outside[1].extend(range(j + run, j + run + skip_known))
        i, j, detours = i + run + skip_names, j + run + skip_known, detours + 1
    outside[0].extend(range(i, len(names)))
    outside[1].extend(range(j, len(known)))
    if outside[0] and outside[1]:
        where = {known[r]: r for r in outside[1]}
        rows[outside[0]] = [where.get(names[r], -1) for r in outside[0]]
    return rows


def _shared_run(a: Sequence[str], i: int, b: Sequence[str], j: int) -> int:
    """How many items a[i:] and b[j:] share before they first differ: slices compared growing, then halving.

    Example: _shared_run(["x", "a", "b", "c"], 1, ["a", "b", "d"], 0) -> 2
    """
    limit, run, step = min(len(a) - i, len(b) - j), 0, 1
    while step <= limit - run and a[i + run : i + run + step] == b[j + run : j + run + step]:
        run, step = run + step, step * 2
    while step > 1:
        step //= 2
        if step <= limit - run and a[i + run : i + run + step] == b[j + run : j + run + step]:
            run += step
    return run


def _resync(a: Sequence[str], i: int, b: Sequence[str], j: int) -> tuple[int, int]:
    """Where a[i:] and b[j:], which differ at their first item, agree again within RESYNC items: how many of a and of
    b to step over (one of each if neither's next item is near in the other; none at the end of either).

    Example: _resync(["new", "a"], 0, ["a", "b"], 0) -> (1, 0)
    """
    if i >= len(a) or j >= len(b):
        return 0, 0
    ahead_a = _position(a, b[j], i + 1, i + 1 + RESYNC)
    ahead_b = _position(b, a[i], j + 1, j + 1 + RESYNC)
    if ahead_a >= 0 and (ahead_b < 0 or ahead_a - i <= ahead_b - j):
        return ahead_a - i, 0
    return (0, ahead_b - j) if ahead_b >= 0 else (1, 1)


def _position(items: Sequence[str], item: str, start: int = 0, stop: int | None = None) -> int:
    """The first position of `item` in items[start:stop] (-1: none), found by the list's own scan."""
    try:
        return items.index(item, start, len(items) if stop is None else stop)
    except ValueError:
        return -1
