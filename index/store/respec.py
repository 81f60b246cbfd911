"""A segment with another FAISS index: the same rows in a new segment folder, its other files hard-linked.

index/store/build.py gives a segment IVF or exact search by its size and the whole index's (`segment_spec`); when an
update moves the index across FLAT_MAX_N, the segments the rule now classes otherwise are rewritten here (their FAISS
files only, once), so a segment's search does not depend on the index's size when it was
merged. Segments never change in place: readers of the older version keep the old folder until it is collected.
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

from index.store.segments import CODES_FILE, FAISS_FILE, META, Segment, finish, write_faiss


def kind(spec: str) -> str:
    """'IVF' or 'Flat': what a FAISS spec searches with. Example: kind('IVF1448,SQ8') -> 'IVF'."""
    return "IVF" if spec.startswith("IVF") else "Flat"


def current_kind(segment: Segment) -> str:
    """'IVF' or 'Flat': what `segment` searches with now, without reading its meta.json (large at 1M: an update would
    parse every segment's). A flat segment has 8-bit codes beside its index (index/store/segments.py write_faiss); one
    written before the codes existed reads as IVF, so it is rewritten once if the rule wants it exact."""
    return "Flat" if segment.chunk_count == 0 or (segment.folder / CODES_FILE).exists() else "IVF"


def rewrite_faiss(segment: Segment, folder: Path, *, spec: str) -> None:
    """Write `segment` at `folder` with a FAISS index of `spec`; every other file is linked (copied if it can't be)."""
    tmp = folder.parent / f".tmp-{folder.name}"
    tmp.mkdir(parents=True)
    for path in segment.folder.iterdir():
        if path.name not in (FAISS_FILE, CODES_FILE, META):
            _link(path, tmp / path.name)
    segment.read_randomly(False)  # every vector is read, in order
    write_faiss(tmp / FAISS_FILE, segment.chunk_vectors, spec=spec)
    (tmp / META).write_text(json.dumps({**segment.meta, "faiss": spec}, ensure_ascii=False), encoding="utf-8")
    finish(tmp, folder)


def _link(source: Path, target: Path) -> None:
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)
