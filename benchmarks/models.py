"""Embedding models side by side in one run: size on disk, load, indexing time per 1k chunks, query encode, answer.

For each model (a known name of index/models.py or a sentence-transformers folder), in one process, models taken in
turn each round: index the SQuAD sample (as `citebot index` does, late chunking), then answer its questions warm
(ONNX query path, one thread) and time one query encode (ONNX and torch, one thread). Quality is
benchmarks/quality.py with CITEBOT_EMBED_MODEL set; this is the cost side.

    python benchmarks/models.py [--models NAME_OR_FOLDER,...] (default: all-MiniLM-L6-v2, all-mpnet-base-v2)
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import median, write_squad  # noqa: I001
from latency import measure

from bot import Bot, Settings
from index.chunking import split_text
from index.embeddings import make_embedder
from index.loader import load_documents
from index.models import MINILM, MPNET, dimension, local_model
from index.onnx_embed import onnx_files
from index.pipeline import index_paths
from index.query_embed import resolve

COLUMNS = ("dim", "disk MB", "onnx MB", "load s", "index s/1k", "onnx q ms", "torch q ms", "answer ms")


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


def measure_model(model: str, docs: Path, questions: list[str], tmp: Path, rounds: int) -> dict[str, float]:
    """One model's costs: the medians over `rounds` of indexing and of the per-question times."""
    settings = Settings.from_env({}, embed_model=model, cache_dir=tmp / "cache", query_threads=1)
    path = Path(local_model(model, cache_dir=settings.cache_dir))
    started = time.perf_counter()
    embedder = make_embedder(str(path))  # all threads, as `citebot index`
    load = time.perf_counter() - started
    chunks = sum(len(split_text(d.source, d.text, size=200, overlap=40)) for d in load_documents([docs])[0])
    index_times, answer, onnx_q, torch_q = [], [], [], []
    for r in range(rounds):
        run = replace(settings, index_dir=tmp / f"ix-{path.name}-{r}")
        started = time.perf_counter()
        index_paths([docs], run, embedder=embedder)
        index_times.append((time.perf_counter() - started) / chunks * 1000)
        bot = Bot.load(settings=run)
        onnx = resolve(bot.engine.retriever.embedder)
        floor, full = measure(bot, questions, rounds=1)
        answer.append(median(full))
        onnx_q.append(median(_encode_ms(onnx.get_query_embedding, questions)))
    torch_model = make_embedder(str(path), threads=1)
    torch_q.append(median(_encode_ms(torch_model.get_query_embedding, questions)))
    onnx_dir = onnx_files(settings.cache_dir, path, name=str(path)).folder
    return {"dim": dimension(model), "disk MB": folder_mb(path), "onnx MB": folder_mb(onnx_dir), "load s": load,
            "index s/1k": median(index_times), "onnx q ms": median(onnx_q), "torch q ms": median(torch_q),
            "answer ms": median(answer)}  # fmt: skip


def _encode_ms(encode, questions: list[str]) -> list[float]:  # type: ignore[no-untyped-def]
    for q in questions[:3]:
        encode(q)
    times = []
    for q in questions:
        started = time.perf_counter()
        encode(q)
        times.append((time.perf_counter() - started) * 1000)
    return times


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=f"{MINILM},{MPNET}", help="comma-separated names or folders")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--questions", type=int, default=60)
    args = parser.parse_args()
    import torch

    print(f"torch threads for indexing: {torch.get_num_threads()}")
    with tempfile.TemporaryDirectory(prefix="citebot-models-") as tmp:
        questions = write_squad(Path(tmp) / "docs")[: args.questions]
        results = {
            m: measure_model(m, Path(tmp) / "docs", questions, Path(tmp), args.rounds) for m in args.models.split(",")
        }
    base = next(iter(results.values()))
    print(f"{'model':<44}" + "".join(f"{c:>12}" for c in COLUMNS))
    for model, row in results.items():
        print(f"{model[-43:]:<44}" + "".join(f"{row[c]:>12.1f}" for c in COLUMNS))
        ratios = "".join(f"{row[c] / base[c]:>11.2f}x" if base[c] else f"{'':>12}" for c in COLUMNS)
        print(f"{'  ratio to the first':<44}" + ratios)
    return 0


if __name__ == "__main__":
    sys.exit(main())
