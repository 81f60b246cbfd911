"""Load and first-answer time as the corpus grows (issue 11): 1k, 10k and 50k chunks, hash embedder (no model).

Usage: python benchmarks/first_answer.py [--sizes 1000,10000,50000]

Documents are SQuAD sentences shuffled into 2,000-character files (seeded), indexed with CITEBOT_EMBED_MODEL=hash so
that only storage and retrieval are measured. Per size: build time, `Bot.load`, the first answer after it, the warm
answer p50, and a cold `citebot ask` in a fresh process (imports + load + answer), side by side in one run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, SQUAD, median  # noqa: I001

from bot import Bot, Settings
from index.documents.chunking import split_sentences
from index.pipeline import index_paths

QUESTIONS = ["Who were the Normans?", "When did Sky launch its digital service?", "What is BSkyB?"]


def write_corpus(folder: Path, chunks: int) -> None:
    """About `chunks` chunks of shuffled SQuAD sentences, 2,000 characters a file (about 3 chunks each)."""
    data = json.loads(SQUAD.read_text(encoding="utf-8"))
    pool = [s.text for a in data["data"] for p in a["paragraphs"] for s in split_sentences("x", p["context"])]
    rng = random.Random(chunks)
    folder.mkdir(parents=True)
    for i in range(max(1, chunks // 3)):
        text, n = [], 0
        while n < 2000:
            text.append(rng.choice(pool))
            n += len(text[-1]) + 1
        (folder / f"doc{i:06d}.txt").write_text(" ".join(text), encoding="utf-8")


def time_answers(bot: Bot, *, rounds: int) -> tuple[float, list[float]]:
    """Seconds for the first answer after load, then for each of `rounds` passes over QUESTIONS."""
    started = time.perf_counter()
    bot.answer(QUESTIONS[0])
    first = time.perf_counter() - started
    warm = []
    for q in QUESTIONS * rounds:
        started = time.perf_counter()
        bot.answer(q)
        warm.append(time.perf_counter() - started)
    return first, warm


def measure(tmp: Path, size: int) -> dict[str, float]:
    docs = tmp / f"docs{size}"
    write_corpus(docs, size)
    settings = Settings.from_env({}, index_dir=tmp / f"ix{size}", embed_model="hash")
    started = time.perf_counter()
    report, _ = index_paths([docs], settings)
    build = time.perf_counter() - started
    started = time.perf_counter()
    bot = Bot.load(settings=settings)
    load = time.perf_counter() - started
    first, warm = time_answers(bot, rounds=5)
    env = {**os.environ, "CITEBOT_EMBED_MODEL": "hash", "CITEBOT_INDEX_DIR": str(settings.index_dir)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ui.cli", "ask", QUESTIONS[1]], env=env, cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    cold = time.perf_counter() - started
    return {"chunks": report.chunks, "build s": build, "load s": load, "first answer ms": first * 1000,
            "warm p50 ms": median(warm) * 1000, "first / warm": first / median(warm), "cold ask s": cold}  # fmt: skip


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="1000,10000,50000")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citebot-first-") as tmp:
        rows = [measure(Path(tmp), int(n)) for n in args.sizes.split(",")]
    keys = list(rows[0])
    print("".join(f"{k:>17}" for k in keys))
    for row in rows:
        print("".join(f"{row[k]:>17.0f}" if k == "chunks" else f"{row[k]:>17.2f}" for k in keys))
    return 0


if __name__ == "__main__":
    sys.exit(main())
