""".npy files written and read a slice at a time, so that writing a large segment holds a bounded amount of memory.

Pages of a memory-mapped file that a process has read or written count in its resident set (RssFile) until it unmaps
them: a merge that reads every vector of its inputs through their maps would hold them all. `release` hands a map's
pages back (the page cache keeps them, written pages included, so nothing is lost), and `NpyWriter` appends rows to a
file through ordinary writes, which map nothing.
"""

from __future__ import annotations

import mmap
import os
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np

SLICE = 65_536  # rows (or postings) read, written and released at a time


def slices(n: int, *, step: int | None = None) -> Iterator[tuple[int, int]]:
    """(start, stop) of consecutive slices of `n` rows, `step` (default SLICE) at a time.

    Example: list(slices(5, step=2)) == [(0, 2), (2, 4), (4, 5)]
    """
    size = step or SLICE
    for at in range(0, n, size):
        yield at, min(at + size, n)


def release(*arrays: Any) -> None:
    """Hand back the resident pages of the files mapped under `arrays` (a no-op for arrays in memory)."""
    advise(*arrays, how=mmap.MADV_DONTNEED)


def advise(*arrays: Any, how: int) -> None:
    """madvise(`how`) the whole file mapped under each of `arrays` (a no-op for arrays in memory).

    MADV_RANDOM for the maps answering reads: a page fault then reads that page alone, where the kernel's default
    reads 128 kB around it (at 1M chunks a new question read 65 MB, most of it pages it never looked at:
    benchmarks/first_asking.py). MADV_NORMAL gives the readahead back, for a merge's sequential reads.
    """
    for a in arrays:
        mapped = _mmap_of(a)
        if mapped is not None:
            mapped.madvise(how)


def prefetch(array: np.ndarray, starts: np.ndarray, stops: np.ndarray | None = None) -> None:
    """Ask the kernel to read, now and all at once, the pages of a mapped `array` holding rows [starts, stops) (one
    row each without `stops`): the reads overlap instead of faulting in one by one (MADV_WILLNEED; a no-op for an
    array in memory). Example: prefetch(vectors, rows) before vectors[rows]."""
    mapped, base = _mmap_of(array), _memmap_of(array)
    if mapped is None or base is None or not len(starts) or array.ndim == 0:
        return
    start = array.ctypes.data - base.ctypes.data + base.offset % mmap.ALLOCATIONGRANULARITY
    row = array.strides[0]
    ends = starts + 1 if stops is None else stops
    first = (start + np.asarray(starts, dtype=np.int64) * row) // mmap.PAGESIZE
    last = (start + np.asarray(ends, dtype=np.int64) * row - 1) // mmap.PAGESIZE
    for a, b in _runs(first, last):
        mapped.madvise(mmap.MADV_WILLNEED, a * mmap.PAGESIZE, (b - a + 1) * mmap.PAGESIZE)


def _runs(first: np.ndarray, last: np.ndarray) -> list[tuple[int, int]]:
    """Page ranges [first, last] merged where they touch. Example: [0, 2, 9], [1, 4, 9] -> [(0, 4), (9, 9)]"""
    order = np.argsort(first, kind="stable")
    first, reach = first[order], np.maximum.accumulate(last[order])
    new = np.flatnonzero(first[1:] > reach[:-1] + 1) + 1
    starts, ends = np.concatenate([[0], new]), np.concatenate([new - 1, [len(first) - 1]])
    return list(zip(first[starts].tolist(), reach[ends].tolist(), strict=True))


def _memmap_of(a: Any) -> np.memmap | None:
    """The np.memmap under an array (through its bases), or None."""
    while a is not None and not isinstance(a, np.memmap):
        a = getattr(a, "base", None)
    return a


def _mmap_of(a: Any) -> mmap.mmap | None:
    """The mmap under an array (through its bases), or None."""
    while a is not None:
        mapped = getattr(a, "_mmap", None) if isinstance(a, np.memmap) else None
        if isinstance(mapped, mmap.mmap):
            return mapped
        if isinstance(a, mmap.mmap):
            return a
        a = getattr(a, "base", None)
    return None


def open_reserved(path: Path, dtype: Any, shape: tuple[int, ...]) -> np.ndarray:
    """A new .npy file mapped for writing, its space reserved first (posix_fallocate): on a full disk this raises
    ENOSPC, where writing into the pages of a sparse map would kill the process with SIGBUS."""
    out = np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)
    size = path.stat().st_size
    if size:
        with open(path, "r+b") as fh:
            os.posix_fallocate(fh.fileno(), 0, size)
    return out


class NpyWriter:
    """A .npy file of a known shape written row block by row block (the same bytes `np.save` writes).

    Example: with NpyWriter(path, np.int64, (3,)) as out: out.write(np.arange(2)); out.write(np.arange(1))
    """

    def __init__(self, path: Path, dtype: Any, shape: tuple[int, ...]) -> None:
        self.path, self.dtype, self.shape = path, np.dtype(dtype), shape
        self.rows = 0
        self.file = open(path, "wb")  # noqa: SIM115 (closed by __exit__)
        header = {"descr": np.lib.format.dtype_to_descr(self.dtype), "fortran_order": False, "shape": shape}
        np.lib.format.write_array_header_1_0(self.file, header)

    def write(self, block: np.ndarray) -> None:
        """Append rows (converted to the file's dtype)."""
        self.file.write(np.ascontiguousarray(block, dtype=self.dtype).tobytes())
        self.rows += len(block)

    def __enter__(self) -> NpyWriter:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.file.close()
        if kind is None and self.rows != (self.shape[0] if self.shape else 1):
            raise ValueError(f"{self.path}: {self.rows} rows written, its header says {self.shape[0]}")
