"""The whole system as the corpus grows (issue 13): build, load, answer and a one-file update, hash embedder.

Usage: python benchmarks/scale_system.py [--sizes 10000,100000]   (1M: --sizes 10000,100000,1000000; it takes long)

The corpus is benchmarks/first_answer.py's (SQuAD sentences shuffled into 2,000-character files), indexed with
CITEBOT_EMBED_MODEL=hash so the model is left out. Each step runs in its own process, so peak RSS is that step's
(VmHWM): the build; the load, first answer and warm p50 with the RSS after loading; then one new file
added and the folder indexed again, with the megabytes of the files it wrote into the index folder, its CPU seconds
(user and system: what it costs whatever else the shared machine runs), the seconds of it spent importing
llama-index's SentenceSplitter (index/documents/splitter.py: it chunks the new file) and the load average when it ended.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, median  # noqa: I001
from first_answer import time_answers, write_corpus

from bot import Bot, Settings
from index.pipeline import index_paths
from index.store.reading import CURRENT

NEW_FILE = "Owls hunt at night with silent feathers. Their soft wing edges break up the air that would make a sound."


def _settings(index_dir: Path) -> Settings:
    return Settings.from_env({}, index_dir=index_dir, embed_model="hash")


def _peak_gb() -> float:
    """This process's peak RSS: VmHWM, not ru_maxrss, which after fork and exec keeps the parent's peak (a step run
    from scale_replicated.py, grown to 1.9 GB by its merges, reported 1.9 GB whatever the step used)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # Linux reports KiB


def _cpu() -> float:
    """CPU seconds of this process so far (user and system): what a step costs whatever else the machine runs."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _rss_gb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 2**20
    return 0.0


def _files(index_dir: Path) -> dict[str, int]:
    """Every file of the index folder and its size (segments and versions are written once, never changed)."""
    if not index_dir.exists():
        return {}
    return {str(p): p.stat().st_size for p in index_dir.rglob("*") if p.is_file()}


def _written_mb(before: dict[str, int], index_dir: Path) -> float:
    """Megabytes of the files a step created (or rewrote) in the index folder."""
    after = _files(index_dir)
    return sum(size for path, size in after.items() if before.get(path) != size or path.endswith(CURRENT)) / 1e6


def _llama_import(settings: Settings) -> float:
    """Seconds to import llama-index's SentenceSplitter as citebot does (index/documents/splitter.py: which any new
    file needs, with its tokenizer loaded): part of the step."""
    started = time.perf_counter()
    from index.documents.splitter import sentence_splitter

    sentence_splitter(settings.chunk_size, settings.chunk_overlap)
    return time.perf_counter() - started


def child(step: str, docs: Path, index_dir: Path) -> dict[str, float]:
    """One step, in this (fresh) process."""
    before = _files(index_dir)
    started, cpu = time.perf_counter(), _cpu()
    if step in ("build", "update"):
        llama = _llama_import(_settings(index_dir))
        report, _ = index_paths([docs], _settings(index_dir))
        seconds, cpu = time.perf_counter() - started, _cpu() - cpu
        written = _written_mb(before, index_dir)
        return {"s": seconds, "cpu s": cpu, "llama s": llama, "chunks": report.chunks, "peak GB": _peak_gb(),
                "MB": written, "load": os.getloadavg()[0]}  # fmt: skip
    bot = Bot.load(settings=_settings(index_dir))
    load, rss = time.perf_counter() - started, _rss_gb()
    first, warm = time_answers(bot, rounds=7)
    return {"load s": load, "RSS GB": rss, "first ms": first * 1000, "warm ms": median(warm) * 1000}


def run(step: str, docs: Path, index_dir: Path) -> dict[str, float]:
    argv = [sys.executable, __file__, "--child", step, str(docs), str(index_dir)]
    done = subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def measure(tmp: Path, size: int) -> dict[str, float]:
    docs, index_dir = tmp / f"docs{size}", tmp / f"ix{size}"
    shutil.rmtree(index_dir, ignore_errors=True)
    (docs / "zz-new.txt").unlink(missing_ok=True)
    if not docs.exists():
        write_corpus(docs, size)
    build = run("build", docs, index_dir)
    answer = run("answer", docs, index_dir)
    (docs / "zz-new.txt").write_text(NEW_FILE, encoding="utf-8")
    update = run("update", docs, index_dir)
    return {
        "chunks": build["chunks"],
        "build s": build["s"],
        "build peak GB": build["peak GB"],
        **answer,
        "update s": update["s"],
        "update cpu s": update["cpu s"],
        "update llama s": update["llama s"],  # of "update s": importing llama-index's splitter for the new file
        "update MB": update["MB"],
        "update peak GB": update["peak GB"],
        "load avg": update["load"],  # the 1-minute load average when the update ended (2 cores, shared)
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10000,100000")
    parser.add_argument("--workdir", help="keep the corpora and indexes here (default: a temporary folder)")
    parser.add_argument("--child", nargs=3, metavar=("STEP", "DOCS", "INDEX_DIR"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child[0], Path(args.child[1]), Path(args.child[2]))))
        return 0
    keys: list[str] = []
    with tempfile.TemporaryDirectory(prefix="citebot-scale-") as tmp:
        for n in args.sizes.split(","):
            row = measure(Path(args.workdir or tmp), int(n))
            if not keys:
                keys = list(row)
                print("".join(f"{k:>15}" for k in keys), flush=True)
            print("".join(f"{row[k]:>15.0f}" if k == "chunks" else f"{row[k]:>15.2f}" for k in keys), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
