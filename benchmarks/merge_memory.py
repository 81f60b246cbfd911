"""Peak memory of the merges a large build performs (issue 13: 1M chunks built in <= 4 GB), hash embedder.

Usage: python benchmarks/merge_memory.py --from WORKDIR [--scratch DIR] [--before GITREF] [--levels 2,3] [--model M]

WORKDIR is scale_system.py's (`--workdir`, with ix100000: segments of 16k chunks, as a build writes them). A build
merges 8 segments of a size class into one (index/store/merging.py): 8 batches of 16k into 131k chunks (level 2; the
largest merge of a build of up to 1,048,575 chunks, Flat while the index holds <= 250k chunks, IVF after), and 8 of
those into 1.05M (level 3, once a build passes 64 batches). This script hard-links 8 of the 100k index's 16k
segments (copies renamed as scale_replicated.py does), merges them, then links that merged segment 8 times and
merges those: each merge in a fresh process, its peak resident memory sampled every 20 ms from /proc/self/status
(RssAnon: the heap; RssFile: pages of mapped files) and its ru_maxrss (the kernel's peak of the sum). With
--before, the same merges run with the code of GITREF (exported to a temporary folder) side by side, and the
level-2 segments the two write are compared file by file. With --model sentence-transformers/all-MiniLM-L6-v2 each
merging process loads the model first and embeds a batch, as a real-model build holds it while it merges.
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LEVEL1 = 16_384


def _status() -> dict[str, int]:
    """RssAnon, RssFile, VmRSS of this process in KiB."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key = line.split(":")[0]
        if key in ("RssAnon", "RssFile", "VmRSS"):
            out[key] = int(line.split()[1])
    return out


def worker(inputs: list[Path], out: Path, spec: str) -> dict[str, float]:
    """Merge `inputs` into `out` in this process, sampling its memory; imports are paid before the clock starts."""
    import faiss  # noqa: F401
    import llama_index.vector_stores.faiss  # noqa: F401

    from index.store.merging import merge
    from index.store.segments import Segment

    if os.environ.get("MERGE_MEMORY_MODEL"):  # as a real-model build holds it while it merges
        from index.embedding.embeddings import make_embedder

        make_embedder(os.environ["MERGE_MEMORY_MODEL"]).get_text_embedding_batch(["Owls hunt at night."] * 64)

    peaks = {"RssAnon": 0, "RssFile": 0, "VmRSS": 0}
    start_status, done = _status(), threading.Event()

    def sample() -> None:
        while not done.wait(0.02):
            for key, value in _status().items():
                peaks[key] = max(peaks[key], value)

    thread = threading.Thread(target=sample, daemon=True)
    thread.start()
    t0 = time.perf_counter()
    segments = [Segment(p) for p in inputs]
    merge(segments, [[]] * len(segments), [{}] * len(segments), out, spec=spec)
    seconds = time.perf_counter() - t0
    done.set()
    thread.join()
    gib = 2**20
    return {"s": seconds, "start GB": start_status["VmRSS"] / gib, "anon GB": peaks["RssAnon"] / gib,
            "file GB": peaks["RssFile"] / gib, "sampled GB": peaks["VmRSS"] / gib,
            "maxrss GB": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / gib}  # fmt: skip


def _link(source: Path, target: Path, prefix: str) -> Path:
    """A hard-linked copy of a segment, its documents renamed `prefix/...` (meta.json written anew, not through)."""
    shutil.copytree(source, target, copy_function=os.link)
    meta_path = target / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta_path.unlink()
    meta["sources"] = [f"{prefix}/{s}" for s in meta["sources"]]
    meta["locations"] = {f"{prefix}/{s}": v for s, v in meta["locations"].items()}
    meta_path.write_text(json.dumps(meta))
    return target


def _run(code: Path, inputs: list[Path], out: Path, spec: str, *, model: str = "") -> dict[str, float]:
    """One merge in a fresh process with the index/ package of `code` (and `model` loaded first, if given)."""
    env = {**os.environ, "PYTHONPATH": str(code), "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")}
    env["MERGE_MEMORY_MODEL"] = model
    args = [sys.executable, __file__, "--worker", str(out), spec, *map(str, inputs)]
    result = subprocess.run(args, env=env, check=True, capture_output=True, text=True, cwd=code)
    return dict(json.loads(result.stdout.strip().splitlines()[-1]))


def _differ(a: Path, b: Path) -> list[str]:
    """Files of segment folder `a` that `b` lacks or holds with other bytes (and b's files that a lacks)."""
    names = {p.name for p in a.iterdir()} | {p.name for p in b.iterdir()}
    return sorted(n for n in names if not (a / n).exists() or not (b / n).exists()
                  or not filecmp.cmp(a / n, b / n, shallow=False))  # fmt: skip


def _row(label: str, level: int, chunks: int, spec: str, measured: dict[str, float]) -> None:
    load = os.getloadavg()[0]
    gb = [f"{measured[k]:.2f}" for k in ("start GB", "anon GB", "file GB", "maxrss GB")]
    cells = [label, f"L{level}", f"{chunks:,}", spec, f"{measured['s']:.0f}", *gb, f"{load:.1f}"]
    print("| " + " | ".join(cells) + " |", flush=True)


def main() -> int:
    if len(sys.argv) > 1 and sys.argv[1] == "--worker":
        sys.path.insert(0, os.getcwd())
        print(json.dumps(worker([Path(p) for p in sys.argv[4:]], Path(sys.argv[2]), sys.argv[3])))
        return 0
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--from", dest="work", required=True, help="scale_system.py --workdir with ix100000")
    parser.add_argument("--scratch", default=None, help="where to write the merges (deleted at the end)")
    parser.add_argument("--before", default=None, help="a git ref whose merge code runs side by side")
    parser.add_argument("--levels", default="2,3", help="2: 8 x 16k chunks; 3: 8 x 131k")
    parser.add_argument("--specs", default="Flat,IVF", help="level 2 as the first merge of a build (Flat) or later")
    parser.add_argument("--model", default="", help="load this embedding model before merging (a real-model build)")
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from index.search.vectorstores import ivf_spec

    scratch = Path(args.scratch or tempfile.mkdtemp(prefix="merge-memory-"))
    codes = {"after": ROOT}
    if args.before:
        codes = {"before": scratch / "before-code", **codes}
        (scratch / "before-code").mkdir(parents=True, exist_ok=True)
        archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.before], check=True, capture_output=True)
        subprocess.run(["tar", "-x", "-C", str(scratch / "before-code")], input=archive.stdout, check=True)
    source = Path(args.work) / "ix100000" / "segments"
    level1 = sorted(p for p in source.iterdir() if json.loads((p / "meta.json").read_text())["chunks"] >= LEVEL1)
    inputs = [_link(level1[i % len(level1)], scratch / "l1" / f"c{i}", f"c{i}") for i in range(8)]
    chunks1 = sum(json.loads((p / "meta.json").read_text())["chunks"] for p in inputs)
    levels = [int(x) for x in args.levels.split(",")]
    print(f"merges of {scratch}, {time.strftime('%Y-%m-%d %H:%M')}, {os.cpu_count()} CPUs")
    print("| code | level | chunks | index | s | RSS at start GB | peak anon GB | peak file GB | ru_maxrss GB | load |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    level2 = None
    for spec in [s if s == "Flat" else ivf_spec(chunks1) for s in args.specs.split(",")] if 2 in levels else []:
        outs = {label: scratch / f"l2-{label}-{spec}" for label in codes}
        for label, code in codes.items():
            _row(label, 2, chunks1, spec, _run(code, inputs, outs[label], spec, model=args.model))
        if "before" in outs:
            print(f"files differing between before and after ({spec}): {_differ(outs['before'], outs['after'])}")
            shutil.rmtree(outs["before"])
        if level2 is None:
            level2 = outs["after"]
        else:
            shutil.rmtree(outs["after"])
    if 3 in levels:
        if level2 is None:
            level2 = scratch / "l2"
            _run(ROOT, inputs, level2, ivf_spec(chunks1))
        big = [_link(level2, scratch / "l2copies" / f"d{i}", f"d{i}") for i in range(8)]
        chunks = 8 * json.loads((level2 / "meta.json").read_text())["chunks"]
        for label, code in codes.items():
            out = scratch / f"l3-{label}"
            _row(label, 3, chunks, ivf_spec(chunks), _run(code, big, out, ivf_spec(chunks), model=args.model))
            shutil.rmtree(out)
    if not args.scratch:
        shutil.rmtree(scratch)
    return 0


if __name__ == "__main__":
    sys.exit(main())
