"""Rewrite the float32 sentence vectors of an index's segments as float16, in place: for a copy to measure.

Usage: cp -al W/ix-replicated W/ix-compact && python benchmarks/compact_vectors.py --index W/ix-compact

Each segment's `sentence-vectors.npy` becomes `sentence-vectors-f16.npy` as a merge writes it
(index/store/sentence_vectors.py `write_rows`: the bytes a build of the same documents writes), under a temporary name,
flushed, renamed, and the float32 file's link removed. Segments are meant never to change: run it on a hard-linked
copy (`cp -al`, whose links this removes, leaving the original's files alone) with no reader or writer on it.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path

import numpy as np

from index.store.reading import SEGMENTS
from index.store.sentence_vectors import FILE, FLOAT32_FILE, SentenceVectors, write_rows


def convert(segment: Path) -> bool:
    """Write `segment`'s sentence vectors as float16 and remove its float32 file; False if it had none."""
    if not (segment / FLOAT32_FILE).exists():
        return False
    tmp = segment / ".tmp-vectors"
    tmp.mkdir(exist_ok=True)
    vectors = SentenceVectors.open(segment)
    write_rows(tmp, [(vectors, np.arange(len(vectors)))])
    with open(tmp / FILE, "rb") as fh:
        os.fsync(fh.fileno())
    os.replace(tmp / FILE, segment / FILE)
    tmp.rmdir()
    (segment / FLOAT32_FILE).unlink()
    return True


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--index", type=Path, required=True, help="the index folder (a hard-linked copy)")
    args = parser.parse_args()
    started = time.perf_counter()
    done = [s.name for s in sorted((args.index / SEGMENTS).iterdir()) if s.is_dir() and convert(s)]
    print(f"{len(done)} segments rewritten in {time.perf_counter() - started:.0f} s")


if __name__ == "__main__":
    main()
