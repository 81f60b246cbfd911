"""Embedding models side by side in one run: size on disk, load, indexing time per 1k chunks, query encode, answer.

For each model (a known name of index/embedding/models.py or a sentence-transformers folder), in one process, models
taken in turn each round: index the SQuAD sample (as `citebot index` does, late chunking), then answer its questions
warm (ONNX query path, one thread) and time one query encode (ONNX and torch, one thread). Quality is
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

from common import ROOT, encode_times, median, write_squad  # noqa: I001
from latency import measure

from bot import Bot, Settings
from index.documents.chunking import split_text
from index.documents.loader import load_documents
from index.embedding.embeddings import make_embedder, model_path
from index.embedding.models import MINILM, MPNET, dimension, local_model
from index.embedding.onnx_embed import onnx_files
from index.embedding.query_embed import resolve
from index.pipeline import index_paths

COLUMNS = ("dim", "disk MB", "onnx MB", "load s", "index s/1k", "onnx q ms", "torch q ms", "answer ms")


def folder_mb(path: Path) -> float:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file()) / 1e6


class Subject:
    """One model under test: its folder, loaded torch model and the times measured so far."""

    def __init__(self, model: str, tmp: Path, *, warm_up: Path) -> None:
        self.model = model
        self.settings = Settings.from_env({}, embed_model=model, cache_dir=tmp / "cache", query_threads=1)
        self.local = local_model(model, cache_dir=self.settings.cache_dir)  # all-mpnet-base-v2: unpacked
        self.path = Path(model_path(self.local))
        started = time.perf_counter()
        self.embedder = make_embedder(self.local)  # all threads, as `citebot index`
        self.times: dict[str, list[float]] = {"load s": [time.perf_counter() - started]}
        index_paths([warm_up], replace(self.settings, index_dir=tmp / "warm-up"), embedder=self.embedder, rebuild=True)

    def add(self, column: str, value: float) -> None:
        self.times.setdefault(column, []).append(value)

    def round(self, docs: Path, questions: list[str], index_dir: Path, chunks: int) -> None:
        """Index the corpus, then answer and encode every question warm (ONNX, one thread)."""
        run = replace(self.settings, index_dir=index_dir)
        started = time.perf_counter()
        index_paths([docs], run, embedder=self.embedder)
        self.add("index s/1k", (time.perf_counter() - started) / chunks * 1000)
        bot = Bot.load(settings=run)
        self.add("answer ms", median(measure(bot, questions, rounds=1)[1]))
        self.add(
            "onnx q ms", median(encode_times(resolve(bot.engine.retriever.embedder).get_query_embedding, questions))
        )

    def row(self, questions: list[str]) -> dict[str, float]:
        """The medians, with the sizes and a torch single-query encode (one thread) measured now."""
        torch_model = make_embedder(self.local, threads=1)
        self.add("torch q ms", median(encode_times(torch_model.get_query_embedding, questions)))
        onnx_dir = onnx_files(self.settings.cache_dir, self.path, name=self.local).folder
        sizes = {"dim": float(dimension(self.model)), "disk MB": folder_mb(self.path), "onnx MB": folder_mb(onnx_dir)}
        return sizes | {k: median(v) for k, v in self.times.items()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--models", default=f"{MINILM},{MPNET}", help="comma-separated names or folders")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--questions", type=int, default=60)
    args = parser.parse_args()
    import torch

    print(f"torch threads for indexing: {torch.get_num_threads()}")
    with tempfile.TemporaryDirectory(prefix="citebot-models-") as tmp:
        docs = Path(tmp) / "docs"
        questions = write_squad(docs)[: args.questions]
        chunks = sum(len(split_text(d.source, d.text, size=200, overlap=40)) for d in load_documents([docs])[0])
        import llama_index.embeddings.huggingface  # noqa: F401 - imported before the first model's load is timed

        warm_up = ROOT / "seeds"  # also exports each model's ONNX query graph, which is not indexing time
        subjects = [Subject(m, Path(tmp), warm_up=warm_up) for m in args.models.split(",")]
        for r in range(args.rounds):  # models in turn each round, so a change in the machine's load hits both
            for i, subject in enumerate(subjects):
                subject.round(docs, questions, Path(tmp) / f"ix-{i}-{r}", chunks)
        results = {s.model: s.row(questions) for s in subjects}
    print(f"{chunks} chunks of the SQuAD sample; medians over {args.rounds} rounds, {len(questions)} questions\n")
    base = next(iter(results.values()))
    print(f"{'model':<44}" + "".join(f"{c:>12}" for c in COLUMNS))
    for model, row in results.items():
        print(f"{model[-43:]:<44}" + "".join(f"{row[c]:>12.1f}" for c in COLUMNS))
        ratios = "".join(f"{row[c] / base[c]:>11.2f}x" if base[c] else f"{'':>12}" for c in COLUMNS)
        print(f"{'  ratio to the first':<44}" + ratios)
    return 0


if __name__ == "__main__":
    sys.exit(main())
