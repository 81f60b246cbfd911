"""How chunk vectors are searched: FAISS beside the index (exact, or approximate for large corpora).

With CITEBOT_VECTOR_STORE=milvus the whole retrieval lives in Milvus instead (index/milvus/collections.py); the
protocols here are what both give the bot.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Protocol

import numpy as np

# Exact search up to this many chunks, where a Flat scan stops being fast; above, IVF with 8-bit codes
# (docs/large-corpora.md; benchmarks/scale.py measures both).
FLAT_MAX_N = 250_000


def faiss_spec(n: int) -> str:
    """The FAISS index_factory string for `n` chunk vectors: exact up to FLAT_MAX_N, then IVF (4*sqrt(n) lists) + SQ8.

    Example: faiss_spec(1000) -> "Flat"; faiss_spec(1_000_000) -> "IVF4000,SQ8"
    """
    return "Flat" if n <= FLAT_MAX_N else ivf_spec(n)


def ivf_spec(n: int) -> str:
    """IVF with 4*sqrt(n) lists and 8-bit codes, for `n` vectors. Example: ivf_spec(1_000_000) -> 'IVF4000,SQ8'."""
    return f"IVF{4 * math.isqrt(n)},SQ8"


def nprobe(nlist: int) -> int:
    """IVF lists searched per query: at least 128, and 6.4% of them past 2,000 lists.

    The recall this keeps against exact search, and the time it saves, are in docs/large-corpora.md
    (benchmarks/warm_1m.py, benchmarks/scale.py).
    """
    return max(128, round(nlist * 0.064))


class DenseSearch(Protocol):
    """Nearest chunks to a query vector: (row, cosine) pairs, best first."""

    def search(self, vector: np.ndarray, *, k: int) -> list[tuple[int, float]]: ...


class LexicalSearch(Protocol):
    """Chunks by BM25 score for a query text: (row, score) pairs, best first."""

    def search(self, text: str, *, k: int) -> list[tuple[int, float]]: ...


class RowVectors(Protocol):
    """Vectors by row: `v[i]` one, `v[[i, j]]` several."""

    def __getitem__(self, i: Any) -> np.ndarray: ...

    def __len__(self) -> int: ...


class FaissSearch:
    """A FAISS index read straight from the file FaissVectorStore wrote; row i is chunk i."""

    def __init__(self, path: Path) -> None:
        import faiss

        from index.threads import in_background

        self.index = _probing(faiss.read_index(str(path), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY))
        if isinstance(self.index, faiss.IndexIVF):  # answer from the mapped file now, from memory once read
            in_background(lambda: self._read(path))

    def _read(self, path: Path) -> None:
        """Replace the mapped index by the same one read into memory (the same answers: the same codes and lists).

        Loading read the whole IVF index before answering (440 MB at 1M chunks, 1 s of a cold `citebot ask`); a
        mapped one answers at once but pays a page fault for each page of a list it meets for the first time.
        """
        import faiss

        try:
            index = _probing(faiss.read_index(str(path)))
        except RuntimeError:  # the file is gone (two updates since): keep answering from the map
            return
        index.nprobe = self.index.nprobe
        self.index = index

    def search(self, vector: np.ndarray, *, k: int) -> list[tuple[int, float]]:
        with _OneThread():
            scores, rows = self.index.search(vector.reshape(1, -1).astype(np.float32), k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]


def _probing(index: Any) -> Any:
    """`index`, probing nprobe(nlist) lists if it is IVF."""
    import faiss

    if isinstance(index, faiss.IndexIVF):
        index.nprobe = nprobe(index.nlist)
    return index


class _OneThread:
    """One OpenMP thread per search: more only add overhead to a single query, and wait for a busy CPU."""

    def __enter__(self) -> None:
        import faiss

        self.threads = faiss.omp_get_max_threads()
        faiss.omp_set_num_threads(1)

    def __exit__(self, *_: object) -> None:
        import faiss

        faiss.omp_set_num_threads(self.threads)


class ExactSearch:
    """Exact search of a flat FAISS index (memory-mapped), answered from its 8-bit codes when they prove the answer.

    The codes (a quarter of the bytes, so about 3x faster to scan) give 4k candidates; their float32 vectors (the
    segment's `chunk-vectors.npy`, the flat index's own rows, so the same scores bit for bit) are scored exactly.
    Every vector's code is within one quantization step per dimension of it, so no other vector can score above the
    best candidate's approximate score plus sum(|q_i| * step_i): when that is below the k-th exact score, the
    candidates' top k is the flat index's top k, ties in the same order; otherwise the flat index is searched. The
    candidates' rows are read from `vectors` (a map read a row at a time): searching the mapped flat index for them
    read 128 kB around each (2.3 MB a segment per new question at 100k chunks, benchmarks/first_asking.py).
    """

    def __init__(self, flat: Path, codes: Path, *, vectors: np.ndarray | None = None) -> None:
        import faiss

        self.flat = faiss.read_index(str(flat), faiss.IO_FLAG_MMAP_IFC | faiss.IO_FLAG_READ_ONLY)
        self.codes = faiss.read_index(str(codes))
        trained = faiss.vector_to_array(faiss.downcast_index(self.codes).sq.trained)  # type: ignore[attr-defined]
        self.step = trained[self.codes.d :] / 255
        self.vectors = vectors
        self.fallbacks = 0  # searches the codes could not prove (for tests)

    def search(self, vector: np.ndarray, *, k: int) -> list[tuple[int, float]]:
        query = vector.reshape(1, -1).astype(np.float32)
        wide = max(4 * k, k + 32)
        with _OneThread():
            if self.flat.ntotal > wide:
                approx, ids = self.codes.search(query, wide)
                bound = float(np.abs(query[0]) @ self.step) + 1e-4
                # the k best candidates score at least the k-th approximate score less `bound`, so a candidate whose
                # approximate score is 2 bounds below it cannot be among the top k: its vector is not read
                near = approx[0] + 2 * bound >= approx[0][k - 1]
                scores, rows = self._exact(query, ids[0][near], k)
                if approx[0][-1] + bound >= scores[0][k - 1]:
                    self.fallbacks += 1
                    scores, rows = self.flat.search(query, k)
            else:
                scores, rows = self.flat.search(query, k)
        return [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True) if r >= 0]

    def _exact(self, query: np.ndarray, ids: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The flat index's top k among rows `ids` (scores, rows; -1 past the end), ties in row order."""
        import faiss

        if self.vectors is None:
            chosen = faiss.SearchParameters(sel=faiss.IDSelectorBatch(ids))  # type: ignore[call-arg]
            return self.flat.search(query, k, params=chosen)
        from index.npyfiles import prefetch

        rows = np.unique(ids[ids >= 0])  # ascending, as the flat index meets them
        prefetch(self.vectors, rows)
        few = faiss.IndexFlatIP(self.flat.d)
        few.add(np.ascontiguousarray(self.vectors[rows], dtype=np.float32))
        scores, at = few.search(query, k)
        return scores, np.where(at >= 0, rows[np.maximum(at, 0)], -1)


def write_codes(path: Path, vectors: np.ndarray) -> None:
    """The 8-bit codes ExactSearch scans, of all `vectors` (trained on all of them: each within its range).

    8-bit training keeps each dimension's minimum and maximum, so it is trained on those two rows, found a slice at
    a time (`vectors` may be memory-mapped; their pages are handed back).
    """
    import faiss

    from index.npyfiles import release, slices

    index = faiss.IndexScalarQuantizer(vectors.shape[1], faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT)
    low = np.full(vectors.shape[1], np.inf, dtype=np.float32)
    high = np.full(vectors.shape[1], -np.inf, dtype=np.float32)
    for a, b in slices(len(vectors)):
        low, high = np.minimum(low, vectors[a:b].min(axis=0)), np.maximum(high, vectors[a:b].max(axis=0))
        release(vectors)
    index.train(np.stack([low, high]))
    for a, b in slices(len(vectors)):
        index.add(np.ascontiguousarray(vectors[a:b], dtype=np.float32))
        release(vectors)
    faiss.write_index(index, str(path))
