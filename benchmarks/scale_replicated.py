"""A 1M-chunk index without a 1M build: scale_system.py's 100k index replicated, then answered from and updated.

Usage: python benchmarks/scale_replicated.py --from WORKDIR [--copies 10]   (WORKDIR from scale_system.py --workdir)

The 100k corpus is hard-linked `copies` times into folders c00, c01, ... and the index's segments likewise, each
copy's documents renamed to match (`meta.json` rewritten); then the copied segments are merged into the layout a
1M build leaves (`build_layout`: index/merging.py's policy and index/store.py's choice of FAISS index simulated on
batches of 16k chunks; at 1M, 7 merged segments of about 131k chunks, all IVF (the first, merged while the index
was still small, gets IVF when the build writes its version: index/store.py `segment_spec`), then 7 small Flat
ones), and the result is measured like scale_system.py measures (load, RSS, first and warm answers; one new file
indexed). Before 2026-11-26 18:00 this merged every 8 copied segments regardless of size and left the copied
segments after the 56th as they were (34 small ones in the README's earlier run), a layout no build produces. A
build of 1M chunks with the hash embedder takes over an hour on the shared 2-core machine: build time and peak are
not measured here (a build holds one batch of 16k chunks, or one merge, at a time).
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

from scale_system import NEW_FILE, run  # noqa: I001

from index.merging import merge, plan
from index.segments import META, Segment
from index.store import BATCH_CHUNKS, CURRENT, MANIFEST, SEGMENTS, _write_json, segment_spec


def _link_tree(source: Path, target: Path) -> None:
    shutil.copytree(source, target, copy_function=os.link)


def build_layout(sizes: list[int]) -> list[tuple[list[int], str]]:
    """Runs of the copied segments (chunk counts `sizes`) covering what a build's segments would, with FAISS specs.

    A build of the same chunks in one go writes a Flat segment per batch of BATCH_CHUNKS chunks (its last smaller)
    and merges after each batch as index/merging.py's policy asks, a merged segment getting IVF as index/store.py
    chooses it (`segment_spec`: at least IVF_MIN chunks in an index past FLAT_MAX_N; the version written at the end
    gives every segment the spec the rule asks for the final size). That is simulated on the chunk counts; each of
    its segments' ends is moved to the nearest end of a copied segment, and the copied segments between two ends
    are merged into one (with the build's spec), or kept as they are when alone.
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
            entries.append({"name": name, "dead": [], "dead_idf": {}})
    merged = []
    sizes = [Segment(index_dir / SEGMENTS / e["name"]).chunk_count for e in entries]
    for n, (group, spec) in enumerate(build_layout(sizes)):
        if len(group) == 1:
            merged.append(entries[group[0]])
            continue
        segments = [Segment(index_dir / SEGMENTS / entries[i]["name"]) for i in group]
        name = f"m{time.time_ns()}-{os.getpid()}"
        merge(segments, [[]] * len(segments), [{}] * len(segments), index_dir / SEGMENTS / name, spec=spec)
        merged.append({"name": name, "dead": [], "dead_idf": {}})
        for s in segments:
            shutil.rmtree(s.folder)
        print(f"segment {n + 1}: {len(group)} merged ({spec})", file=sys.stderr, flush=True)
    chunks = sum(Segment(index_dir / SEGMENTS / e["name"]).chunk_count for e in merged)
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
    row = {"chunks": update["chunks"], **answer, "update s": update["s"], "update MB": update["MB"],
           "update peak GB": update["peak GB"]}  # fmt: skip
    print("".join(f"{k:>15}" for k in row))
    print("".join(f"{v:>15.2f}" for v in row.values()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
