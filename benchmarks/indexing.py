"""Indexing time against a raw SentenceTransformer.encode of the same chunk texts, side by side in one run.

Both use the same loaded model, so model loading is left out of both. citebot needs chunk and sentence vectors
(sentence vectors are what let it quote the best sentence); the three ways of making them (index/vectors.py) are
timed side by side. Target: `citebot index` (default: late) <= 1.25x the raw encode.

    python benchmarks/indexing.py [--copies 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import ROOT, print_ratios, write_squad  # noqa: I001

from bot import Settings
from index.chunking import split_text
from index.embeddings import make_embedder
from index.loader import load_documents
from index.pipeline import index_paths


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=4, help="copies of the SQuAD sample in the corpus")
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citebot-indexing-") as tmp:
        docs = Path(tmp) / "docs"
        for i in range(args.copies):
            write_squad(docs / f"copy{i}")
        (docs / "seeds").mkdir()
        (docs / "seeds" / "seed.txt").write_text((ROOT / "seeds" / "germany-lithuania-brigade.txt").read_text())
        settings = Settings.from_env({}, index_dir=Path(tmp) / "ix")
        documents, _ = load_documents([docs])
        chunks = [c.text for d in documents for c in split_text(d.source, d.text, size=200, overlap=40)]
        embedder = make_embedder(settings.embed_model)  # default threads: indexing is a batch job
        model = embedder._model  # the SentenceTransformer inside llama-index's HuggingFaceEmbedding
        model.encode(chunks[:64], batch_size=64)  # warm up
        variants = {"citebot index (late)": "late", "chunk_vectors=embed": "embed", "chunk_vectors=pool": "pool"}
        times: dict[str, list[float]] = {"raw encode": [], **{name: [] for name in variants}}
        for r in range(args.rounds):
            started = time.perf_counter()
            model.encode(chunks, batch_size=64, normalize_embeddings=True)
            times["raw encode"].append(time.perf_counter() - started)
            for name, variant in variants.items():
                run = replace(settings, index_dir=Path(tmp) / f"ix-{variant}-{r}", chunk_vectors=variant)
                started = time.perf_counter()
                index_paths([docs], run, embedder=embedder)
                times[name].append(time.perf_counter() - started)
        print(f"{len(documents)} documents, {len(chunks)} chunks, {args.rounds} rounds (median)\n")
        print_ratios(times, "raw encode")
    return 0


if __name__ == "__main__":
    sys.exit(main())
