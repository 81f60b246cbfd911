"""FAISS beside the index against the whole retrieval in Milvus Lite, side by side in one run (hash embedder, no model).

Usage: python benchmarks/milvus.py [--chunks 10000]

The corpus is benchmarks/first_answer.py's (shuffled SQuAD sentences). Per store: build, a one-file update, `Bot.load`,
the first answer after it, warm answer p50; and for Milvus a server loaded before the update answering after it.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import median  # noqa: I001
from first_answer import QUESTIONS, time_answers, write_corpus

from bot import Bot, Settings
from index.pipeline import index_paths


def measure(docs: Path, settings: Settings) -> dict[str, float]:
    """Seconds for each step on one store."""
    out: dict[str, float] = {}
    started = time.perf_counter()
    index_paths([docs], settings)
    out["build"] = time.perf_counter() - started
    started = time.perf_counter()
    bot = Bot.load(settings=settings)
    out["load"] = time.perf_counter() - started
    out["first answer"], warm = time_answers(bot, rounds=5)
    out["warm p50"] = median(warm)
    (docs / "added.txt").write_text("Owls hunt at night with silent feathers. " * 20, encoding="utf-8")
    started = time.perf_counter()
    index_paths([docs], settings)
    out["one-file update"] = time.perf_counter() - started
    started = time.perf_counter()
    assert "feathers" in bot.answer("When do owls hunt?").text  # the server loaded before the update follows it
    out["answer after update"] = time.perf_counter() - started
    (docs / "added.txt").unlink()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chunks", type=int, default=10_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        docs = Path(tmp) / "docs"
        write_corpus(docs, args.chunks)
        base = Settings.from_env({"CITEBOT_EMBED_MODEL": "hash"}, index_dir=Path(tmp) / "faiss")
        results = {
            "faiss": measure(docs, base),
            "milvus lite": measure(docs, replace(base, index_dir=Path(tmp) / "milvus", vector_store="milvus")),
        }
    print(f"{args.chunks} chunks, hash embedder; questions: {QUESTIONS}")
    print(f"{'step':<22}{'faiss':>12}{'milvus lite':>14}{'ratio':>8}")
    for step in results["faiss"]:
        a, b = results["faiss"][step], results["milvus lite"][step]
        print(f"{step:<22}{a * 1000:>10.1f}ms{b * 1000:>12.1f}ms{b / a:>7.1f}x")


if __name__ == "__main__":
    main()
