"""Sentence vectors on disk: the one place their format is decided (docs/large-corpora.md, issue 28).

A segment writes them as float16 (`sentence-vectors-f16.npy`, half of float32: 8-bit codes with a scale per row, a
quarter, changed answers); a segment written before keeps its float32 `sentence-vectors.npy` and is read as it is.
Either way a reader gets float32 rows (`SentenceVectors`), and a merge writes float16 (`write_rows`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from index.npyfiles import NpyWriter, release, slices

FILE = "sentence-vectors-f16.npy"
FLOAT32_FILE = "sentence-vectors.npy"  # a segment written before float16
DTYPE = np.float16


def encode(vectors: np.ndarray) -> np.ndarray:
    """float32 rows as stored: float16, each component within 2**-11 of its size (unit vectors: within 0.0005).

    Example: encode(np.array([[0.1]], np.float32)) -> [[0.09998]] (float16)
    """
    return np.asarray(vectors, dtype=np.float32).astype(DTYPE)


def decode(rows: np.ndarray) -> np.ndarray:
    """Stored rows (float16, or float32 from an older segment) as float32, exactly."""
    return np.asarray(rows, dtype=np.float32)


def save_vectors(folder: Path, vectors: np.ndarray) -> None:
    """Write a new segment's sentence vectors (float32 rows) as stored."""
    np.save(folder / FILE, encode(vectors))


def path_in(folder: Path) -> Path:
    """The sentence-vector file of a segment folder: float16, or the float32 file of a segment written before."""
    stored = folder / FILE
    return stored if stored.exists() else folder / FLOAT32_FILE


class SentenceVectors:
    """A segment's sentence vectors, memory-mapped, read as float32 rows whatever the file holds.

    Example: SentenceVectors.open(folder)[3] -> the float32 vector of local sentence row 3
    """

    def __init__(self, array: np.ndarray) -> None:
        self.array = array  # the mapped file: float16 rows, or float32 in an older segment

    @classmethod
    def open(cls, folder: Path) -> SentenceVectors:
        return cls(np.asarray(np.load(path_in(folder), mmap_mode="r")))

    @property
    def shape(self) -> tuple[int, int]:
        return len(self.array), int(self.array.shape[1])

    def __len__(self) -> int:
        return len(self.array)

    def __getitem__(self, rows: Any) -> np.ndarray:
        """A row (or rows: an int array, a slice) as float32."""
        return decode(self.array[rows])

    def stored(self, rows: np.ndarray) -> np.ndarray:
        """Rows as a new segment stores them (float32 ones encoded; float16 ones as they are)."""
        return encode(self.array[rows])


def write_rows(folder: Path, parts: Sequence[tuple[SentenceVectors, np.ndarray]]) -> None:
    """The given rows of each segment's sentence vectors, in order, as the sentence vectors of the segment `folder` (a
    merge's; a slice at a time)."""
    total = sum(len(rows) for _, rows in parts)
    with NpyWriter(folder / FILE, DTYPE, (total, parts[0][0].shape[1])) as out:
        for vectors, rows in parts:
            for a, b in slices(len(rows)):
                out.write(vectors.stored(rows[a:b]))
                release(vectors.array)
