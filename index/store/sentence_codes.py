"""Sentence vectors on disk: the one place their format is decided (docs/large-corpora.md, issue 28).

A segment writes them as 8-bit codes with a scale per row (`sentence-vectors-q8.npy`, 388 bytes a 384-d row against
1,536 in float32); a segment written before keeps its float32 `sentence-vectors.npy` and is read as it is. Either
way a reader gets float32 rows (`SentenceVectors`), and a merge writes the codes (`write_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.npyfiles import NpyWriter, release, slices

CODES_FILE = "sentence-vectors-q8.npy"
FLOAT_FILE = "sentence-vectors.npy"  # a segment written before the codes
LEVELS = 127  # codes run from -127 to 127: a row's largest component is exactly +-127 codes


def code_dtype(dim: int) -> np.dtype[Any]:
    """One row's record: its scale, then its `dim` codes (row ~= codes * scale)."""
    return np.dtype([("scale", "<f4"), ("codes", "i1", (dim,))])


def encode(vectors: np.ndarray) -> np.ndarray:
    """float32 rows as records of `code_dtype`: each component within half its row's scale of the original.

    Example: encode(np.array([[0.5, -0.25]]))[0] -> scale 0.5/127, codes [127, -64]
    """
    rows = np.asarray(vectors, dtype=np.float32).reshape(len(vectors), -1)
    peak = np.abs(rows).max(axis=1) if rows.size else np.zeros(len(rows), np.float32)
    scale = (peak / np.float32(LEVELS)).astype(np.float32)
    safe = np.where(scale > 0, scale, np.float32(1))
    out = np.empty(len(rows), dtype=code_dtype(rows.shape[1]))
    out["scale"] = scale
    out["codes"] = np.clip(np.rint(rows / safe[:, None]), -LEVELS, LEVELS).astype(np.int8)
    return out


def decode(records: np.ndarray) -> np.ndarray:
    """Records of `code_dtype` (one, or rows of them) back to float32 vectors: codes * scale."""
    return np.asarray(records["codes"], dtype=np.float32) * np.asarray(records["scale"], dtype=np.float32)[..., None]


def save_vectors(folder: Path, vectors: np.ndarray) -> None:
    """Write a new segment's sentence vectors (float32 rows) as codes."""
    np.save(folder / CODES_FILE, encode(vectors))


def path_in(folder: Path) -> Path:
    """The sentence-vector file of a segment folder: its codes, or the float32 file of a segment written before."""
    codes = folder / CODES_FILE
    return codes if codes.exists() else folder / FLOAT_FILE


class SentenceVectors:
    """A segment's sentence vectors, memory-mapped, read as float32 rows whatever the file holds.

    Example: SentenceVectors(array)[3] -> the float32 vector of local sentence row 3
    """

    def __init__(self, array: np.ndarray) -> None:
        self.array = array  # the mapped file: float32 rows, or records of code_dtype
        self.coded = array.dtype.names is not None

    @classmethod
    def open(cls, folder: Path) -> SentenceVectors:
        return cls(np.asarray(np.load(path_in(folder), mmap_mode="r")))

    @property
    def dim(self) -> int:
        return int(self.array.dtype["codes"].shape[0]) if self.coded else int(self.array.shape[1])

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.array), self.dim

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, rows: Any) -> np.ndarray:
        """A row (or rows: an int array, a slice) as float32."""
        found = self.array[rows]
        return decode(found) if self.coded else np.asarray(found, dtype=np.float32)

    def records(self, rows: np.ndarray) -> np.ndarray:
        """Rows as records of `code_dtype`: copied as they are from codes, encoded from float32."""
        return np.asarray(self.array[rows]) if self.coded else encode(self.array[rows])


def write_rows(folder: Path, parts: Sequence[tuple[SentenceVectors, np.ndarray]]) -> None:
    """The given rows of each segment's sentence vectors, in order, as the codes of the segment `folder` (a merge's; a
    slice at a time)."""
    total = sum(len(rows) for _, rows in parts)
    with NpyWriter(folder / CODES_FILE, code_dtype(parts[0][0].dim), (total,)) as out:
        for vectors, rows in parts:
            for a, b in slices(len(rows)):
                out.write(vectors.records(rows[a:b]))
                release(vectors.array)
