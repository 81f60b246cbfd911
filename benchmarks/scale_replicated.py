"""A 1M-chunk index without a 1M build: scale_system.py's 100k index replicated, then answered from and updated.

Usage: python benchmarks/scale_replicated.py --from WORKDIR [--copies 10]   (WORKDIR from scale_system.py --workdir)

The 100k corpus is hard-linked `copies` times into folders c00, c01, ... and the index's segments likewise, each
copy's documents renamed to match (`meta.json` and the file table rewritten, the 100k index's deletions kept); then
the copied segments are merged into the layout a 1M build leaves (`build_layout`: index/store/merging.py's policy and
index/store/build.py's choice of FAISS index simulated on batches of 16k chunks; at 1M, 7 merged segments of about 131k
chunks, all IVF (the first, merged while the index was still small, gets IVF when the build writes its version:
index/store/build.py `segment_spec`), then 7 small Flat ones), and the result is measured like scale_system.py measures
(load, RSS, first and warm answers; one new file indexed, with its CPU seconds and the load average). Before
2026-11-26 18:00 this merged every 8 copied segments regardless of size and left the copied segments after the 56th
as they were (34 small ones in the README's earlier run), a layout no build produces. A build of 1M chunks with the
hash embedder takes about 40 minutes on the shared 2-core machine: build time and peak are measured by
scale_system.py --sizes 1000000, not here.

The one-file update, measured 2026-11-26 (BEFORE: commit 113fef3, each segment's meta.json parsed, llama-index
imported whole; AFTER: segment file tables and a listdir+stat scan, the narrow splitter import; side by side in
alternation on the same index, one new file each time, a fresh process each):
    load average 0.3-0.6  BEFORE 7.3-7.9 s (process CPU 7.8-8.6 s), peak 0.61 GB  AFTER 1.9-2.1 s (CPU 1.9-2.0), 0.28 GB
    load average 3        BEFORE 12.0-12.5 s (process CPU 8.5-9.5 s)               AFTER 3.1-4.0 s (CPU 1.9-2.2)
    this script, AFTER, load average 1.7: 2.38 s, CPU 2.35 s, 0.02 MB written, peak 0.28 GB
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import shutil
import sys
import time
from pathlib import Path
from typing import Any

from scale_system import NEW_FILE, run  # noqa: I001

from index.store.build import BATCH_CHUNKS, CURRENT, MANIFEST, SEGMENTS, _write_json, segment_spec
from index.store.filetable import FILES_FILE, SOURCES_FILE, write_table
from index.store.merging import merge, plan
from index.store.segments import LOCATIONS, META, Segment

BEFORE = (
    "for comparison, measured earlier (before the file tables, commit 113fef3, load average 0.3-0.6): update 7.3-7.9 s"
)


def _link_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, copy_function=os.link)


def build_layout(sizes: list[int]) -> list[tuple[list[int], str]]:
    """Runs of the copied segments (chunk counts `sizes`) covering what a build's segments would, with FAISS specs.

    A build of the same chunks in one go writes a Flat segment per batch of BATCH_CHUNKS chunks (its last smaller)
    and merges after each batch as index/store/merging.py's policy asks, a merged segment getting IVF as
    index/store/build.py chooses it (`segment_spec`: at least IVF_MIN chunks in an index past FLAT_MAX_N; the version
    written at the end gives every segment the spec the rule asks for the final size). That is simulated on the chunk
    counts; each of its segments' ends is moved to the nearest end of a copied segment, and the copied segments between
    two ends are merged into one (with the build's spec), or kept as they are when alone.
    Example: sizes [16_400] * 8 + [900] -> [([0, ..., 7], "Flat"), ([8], "Flat")]
    """
    total, batch = sum(sizes), BATCH_CHUNKS
    chunks = [batch] * (total // batch) + ([total % batch] if total % batch else [])
    built: list[tuple[int, str]] = []  # (chunks, spec) of each segment of a build
    for n in chunks:
        built.append((n, "Flat"))
        while (run := plan([c for c, _ in built], [0] * len(built))) is not None:
            merged = sum(built[i][0] for i in run)
            built[run[0] : run[-1] + 1] = [(merged, segment_spec(merged, sum(c for c, _ in built)))]
    built = [(n, segment_spec(n, total)) for n, _ in built]  # the build's last version respecs every segment
    edges = list(itertools.accumulate(sizes))
    layout: list[tuple[list[int], str]] = []
    first, end = 0, 0
    for n, spec in built:
        end += n
        last = min(range(len(edges)), key=lambda i: abs(edges[i] - end))
        if last >= first:
            layout.append((list(range(first, last + 1)), spec))
            first = last + 1
    return layout


def _live_chunks(index_dir: Path, entry: dict[str, Any]) -> int:
    segment = Segment(index_dir / SEGMENTS / entry["name"])
    return segment.chunk_count - len(segment.rows_of(segment.chunk_spans, entry["dead"]))


def replicate(work: Path, copies: int) -> tuple[Path, Path]:
    """Hard-linked copies of the 100k corpus and index as one corpus and index; returns (docs, index_dir)."""
    docs, index_dir = work / "docs-replicated", work / "ix-replicated"
    shutil.rmtree(docs, ignore_errors=True)
    shutil.rmtree(index_dir, ignore_errors=True)
    source_ix = work / "ix100000"
    manifest = json.loads((source_ix / json.loads((source_ix / CURRENT).read_text()) / MANIFEST).read_text())
    entries = []
    for i in range(copies):
        _link_tree(work / "docs100000", docs / f"c{i:02d}")
        for e in manifest["segments"]:
            name = f"{e['name']}-c{i:02d}"
            _link_tree(source_ix / SEGMENTS / e["name"], index_dir / SEGMENTS / name)
            meta_path = index_dir / SEGMENTS / name / META
            meta = json.loads(meta_path.read_text())
            meta_path.unlink()  # a hard link: write a new file, leave the original's alone
            meta["sources"] = [f"c{i:02d}/{s}" for s in meta["sources"]]
            meta["locations"] = {f"c{i:02d}/{s}": v for s, v in meta["locations"].items()}
            meta_path.write_text(json.dumps(meta))
            if (index_dir / SEGMENTS / name / LOCATIONS).exists():  # a hard link too: a new file, renamed sources
                (index_dir / SEGMENTS / name / LOCATIONS).unlink()
                (index_dir / SEGMENTS / name / LOCATIONS).write_text(json.dumps(meta["locations"]))
            for table in (SOURCES_FILE, FILES_FILE):  # the segment's file table names the copy's documents too
                (index_dir / SEGMENTS / name / table).unlink(missing_ok=True)
            write_table(index_dir / SEGMENTS / name, meta["sources"], meta["stat"], meta["sha256"])
            entries.append({"name": name, "dead": e["dead"], "dead_idf": e["dead_idf"]})  # as the 100k index has them
    merged = []
    sizes = [Segment(index_dir / SEGMENTS / e["name"]).chunk_count for e in entries]
    for n, (group, spec) in enumerate(build_layout(sizes)):
        if len(group) == 1:
            merged.append(entries[group[0]])
            continue
        picked = [entries[i] for i in group]
        segments = [Segment(index_dir / SEGMENTS / e["name"]) for e in picked]
        name = f"m{time.time_ns()}-{os.getpid()}"
        dead, dead_idf = [e["dead"] for e in picked], [e["dead_idf"] for e in picked]
        merge(segments, dead, dead_idf, index_dir / SEGMENTS / name, spec=spec)
        merged.append({"name": name, "dead": [], "dead_idf": {}})
        for s in segments:
            shutil.rmtree(s.folder)
        print(f"segment {n + 1}: {len(group)} merged ({spec})", file=sys.stderr, flush=True)
    chunks = sum(_live_chunks(index_dir, e) for e in merged)
    version = f"v{time.time_ns()}-{os.getpid()}"
    (index_dir / version).mkdir()
    body = {**manifest, "roots": [str(docs.resolve())], "chunks": chunks, "segments": merged}
    _write_json(index_dir / version / MANIFEST, body)
    _write_json(index_dir / CURRENT, version)
    return docs, index_dir


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="work", required=True, help="scale_system.py --workdir with a 100k index")
    parser.add_argument("--copies", type=int, default=10)
    args = parser.parse_args()
    docs, index_dir = replicate(Path(args.work), args.copies)
    answer = run("answer", docs, index_dir)
    (docs / "zz-new.txt").write_text(NEW_FILE, encoding="utf-8")
    update = run("update", docs, index_dir)
    row = {"chunks": update["chunks"], **answer, "update s": update["s"], "update cpu s": update["cpu s"],
           "update llama s": update["llama s"], "update MB": update["MB"], "update peak GB": update["peak GB"],
           "load avg": update["load"]}  # fmt: skip
    print("".join(f"{k:>15}" for k in row))
    print("".join(f"{v:>15.2f}" for v in row.values()))
    print(BEFORE)
    return 0


if __name__ == "__main__":
    sys.exit(main())
