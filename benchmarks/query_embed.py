"""Query and token embedding: ONNX Runtime against torch, side by side in one run.

1. One query at a time (what `citebot ask` and the chat do), for 1 and 2 intra-op threads, idle and with the
   other core busy (benchmarks/common.py busy_neighbour): chooses CITEBOT_QUERY_THREADS' default.
2. Token embeddings of every chunk of the SQuAD sample, batched shortest first as indexing does (late chunking
   needs token vectors + offsets): ONNX with all cores against torch's `token_embed`. Indexing would move to ONNX
   only if it were at least as fast.

    python benchmarks/query_embed.py [--queries 100]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from common import busy_neighbour, encode_times, median, percentile, write_squad  # noqa: I001

from bot.config import EMBED_MODEL
from index.documents.chunking import split_text
from index.documents.loader import load_documents
from index.embedding.embeddings import make_embedder, model_path, token_embed
from index.embedding.onnx_embed import _session, _tokenizer, mean_pool, onnx_files
from index.embedding.query_embed import make_query_embedder, resolve


def time_queries(encode, questions: list[str]) -> float:  # type: ignore[no-untyped-def]
    """p50 milliseconds of one encode per question."""
    return median(encode_times(encode, questions))


def onnx_tokens(files, path: Path, texts: list[str], *, threads: int, batch: int = 64) -> float:  # type: ignore[no-untyped-def]
    """Seconds to get (offsets, token vectors) of every text with ONNX Runtime, shortest first in batches."""
    session, tokenizer = _session(files.model, threads), _tokenizer(path, 256)
    tokenizer.enable_padding()
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    started = time.perf_counter()
    for start in range(0, len(order), batch):
        part = [texts[i].strip() for i in order[start : start + batch]]
        encodings = tokenizer.encode_batch(part)
        ids = np.asarray([e.ids for e in encodings], dtype=np.int64)
        mask = np.asarray([e.attention_mask for e in encodings], dtype=np.int64)
        tokens = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})
        mean_pool(tokens[0], mask)
        _ = [(np.asarray(e.offsets), tokens[0][j, : sum(e.attention_mask)]) for j, e in enumerate(encodings)]
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--queries", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citebot-qe-") as tmp:
        questions = write_squad(Path(tmp) / "docs")[: args.queries]
        documents, _ = load_documents([Path(tmp) / "docs"])
        chunks = [c.text for d in documents for c in split_text(d.source, d.text, size=200, overlap=40)]
        path = Path(model_path(EMBED_MODEL))
        files = onnx_files(Path(tmp) / "cache", path, name=EMBED_MODEL)
        make_query_embedder(EMBED_MODEL, cache_dir=Path(tmp) / "cache")  # exports into the temporary cache
        print(f"Single query encode, p50 ms over {len(questions)} SQuAD questions:")
        print(f"{'':<14}{'idle':>8}{'busy':>8}")
        for threads in (1, 2):
            onnx = resolve(make_query_embedder(EMBED_MODEL, cache_dir=Path(tmp) / "cache", threads=threads))
            torch_model = make_embedder(EMBED_MODEL, threads=threads)
            for name, model in ((f"onnx {threads} thr", onnx), (f"torch {threads} thr", torch_model)):
                row = []
                for busy in (False, True):
                    with busy_neighbour(busy):
                        row.append(time_queries(model.get_query_embedding, questions))
                print(f"{name:<14}{row[0]:>8.2f}{row[1]:>8.2f}")
        import torch

        torch.set_num_threads(2)
        embedder = make_embedder(EMBED_MODEL)
        late = token_embed(embedder, progress=False)
        assert late is not None
        list(late(chunks[:64]))
        times: dict[str, list[float]] = {"torch token_embed": [], "onnx tokens": []}
        for _ in range(args.rounds):
            started = time.perf_counter()
            list(late(chunks))
            times["torch token_embed"].append(time.perf_counter() - started)
            times["onnx tokens"].append(onnx_tokens(files, path, chunks, threads=2))
        print(f"\nToken embeddings of {len(chunks)} chunks, 2 threads, median of {args.rounds}:")
        base = median(times["torch token_embed"])
        for name, values in times.items():
            print(
                f"{name:<20}{median(values):>8.2f} s{median(values) / base:>8.2f}x  (p95 {percentile(values, 95):.2f})"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
