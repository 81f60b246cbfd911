"""Indexing time and memory with the real model, against a raw SentenceTransformer.encode, side by side in one run.

Time: the marginal cost once imports are paid (one process, the model loaded once, a warm-up index first), of
`citebot index` (the pipeline: load, chunk, split sentences, embed, write a version) against `encode` of the
documents' own text (each document once, as the model reads it: up to 256 tokens) and of the overlapping chunk
texts. Target: <= 1.25x the documents' own text. The corpus: every paragraph of the SQuAD, TyDi and NQ calibration
sets (../shared/data) as a document, plus the seed document, `--copies` times.
Memory: peak RSS (VmHWM) of a fresh process indexing `--rss-copies` sizes of that corpus, as `citebot index` does
(loading the model itself), beside a floor process that only loads the model and encodes the documents. Target:
<= 1.5 GB whatever the corpus size.

    python benchmarks/indexing.py [--copies 1] [--rounds 3] [--modes late] [--rss-copies 1,4]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

from common import ROOT, median, read_squad, write_documents  # noqa: I001

from bot import Settings
from index.documents.chunking import split_text
from index.documents.loader import load_documents

SETS = ("squad2-dev-sample.json", "tydiqa-en-calibration.json", "nq-calibration.json")
# ../shared/data beside the repo; from a worktree under wt/, two levels up (as benchmarks/quality.py)
DATA = next((d for d in (ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data") if d.is_dir()),
            ROOT.parent / "shared" / "data")  # fmt: skip


def write_corpus(docs: Path, data: Path, copies: int) -> None:
    """The calibration paragraphs (each a document) and the seed document, `copies` times."""
    for i in range(copies):
        for name in SETS:
            path = data / name if (data / name).exists() else ROOT / "data" / name
            if path.exists():
                write_documents(docs / f"copy{i}" / name.split("-")[0], read_squad(path)[0])
        seed = (ROOT / "seeds" / "germany-lithuania-brigade.txt").read_text(encoding="utf-8")
        write_documents(docs / f"copy{i}" / "seeds", {"seed.txt": seed})


def peak_rss_gb() -> float:
    """This process's peak resident set (VmHWM), in GB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024**2
    return float("nan")


def timing(docs: Path, tmp: Path, *, rounds: int, modes: list[str]) -> None:
    """Median seconds of the raw encodes and of `index_paths`, interleaved round by round, and their ratios."""
    from index.embedding.embeddings import make_embedder
    from index.pipeline import index_paths

    settings = Settings.from_env({}, index_dir=tmp / "ix")
    documents, _ = load_documents([docs])
    texts = [d.text for d in documents]
    chunks = [c.text for d in documents for c in split_text(d.source, d.text, size=200, overlap=40)]
    embedder = make_embedder(settings.embed_model)  # default threads: indexing is a batch job
    model = embedder._model  # the SentenceTransformer inside llama-index's HuggingFaceEmbedding
    tokens = [len(ids) for ids in model.tokenizer(texts, verbose=False)["input_ids"]]
    index_paths([ROOT / "seeds"], replace(settings, index_dir=tmp / "warm"), embedder=embedder)  # imports paid
    model.encode(texts[:64], batch_size=64)
    times: dict[str, list[float]] = {"encode documents' text": [], "encode chunk texts": []}
    times.update({f"citebot index ({mode})": [] for mode in modes})
    cpu: dict[str, list[float]] = {name: [] for name in times}
    for r in range(rounds):
        for name in times:
            started, started_cpu = time.perf_counter(), time.process_time()
            if name.startswith("encode"):
                model.encode(texts if "documents" in name else chunks, batch_size=64, normalize_embeddings=True)
            else:
                mode = name.split("(")[1].rstrip(")")
                index_paths([docs], replace(settings, index_dir=tmp / f"ix-{r}-{mode}", chunk_vectors=mode))
            times[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - started_cpu)
    long = sum(t > model.max_seq_length for t in tokens)
    print(f"{len(documents)} documents ({sum(tokens)} tokens, {long} over {model.max_seq_length}, cut by encode), ")
    print(f"{len(chunks)} chunks; {rounds} rounds interleaved, median seconds (every round in brackets):")
    print("CPU time counts what the process did, whatever else shares the cores\n")
    for label, measured in (("wall", times), ("CPU (all threads)", cpu)):
        docs_s, chunks_s = median(measured["encode documents' text"]), median(measured["encode chunk texts"])
        print(f"{label + ' seconds':<26}{'median':>9}{'vs documents':>14}{'vs chunks':>11}   rounds")
        for name, values in measured.items():
            each, m = ", ".join(f"{v:.1f}" for v in values), median(values)
            print(f"{name:<26}{m:>9.2f}{m / docs_s:>13.2f}x{m / chunks_s:>10.2f}x   [{each}]")
        print()


def memory(data: Path, tmp: Path, sizes: list[int]) -> None:
    """Peak RSS of fresh processes: the model floor (at the first size), then `citebot index` at each corpus size."""
    print(f"{'fresh process':<42}{'chunks':>8}{'seconds':>9}{'peak RSS':>10}{'load avg':>10}")
    for copies in sizes:
        docs = tmp / f"rss-docs-{copies}"
        write_corpus(docs, data, copies)
        for role in ("floor", "index") if copies == sizes[0] else ("index",):
            out = subprocess.run(
                [sys.executable, __file__, "--child", role, str(docs), str(tmp / f"rss-ix-{copies}")],
                capture_output=True, text=True, check=True,
            ).stdout  # fmt: skip
            got = json.loads(out.strip().splitlines()[-1])
            label = "model + encode documents (floor)" if role == "floor" else "citebot index"
            print(f"{label + f', {copies} cop' + ('y' if copies == 1 else 'ies'):<42}{got['chunks']:>8}"
                  f"{got['seconds']:>9.1f}{got['rss']:>8.2f} GB{os.getloadavg()[0]:>10.1f}", flush=True)  # fmt: skip


def child(role: str, docs: Path, index_dir: Path) -> None:
    """One measured process: load the model and encode the documents (floor), or index them as `citebot index`."""
    started = time.perf_counter()
    chunks = 0
    if role == "floor":
        from index.embedding.embeddings import make_embedder

        documents, _ = load_documents([docs])
        model = make_embedder("sentence-transformers/all-MiniLM-L6-v2")._model
        model.encode([d.text for d in documents], batch_size=64)
    else:
        from index.pipeline import index_paths

        report, _ = index_paths([docs], Settings.from_env({}, index_dir=index_dir))
        chunks = report.chunks
    print(json.dumps({"rss": peak_rss_gb(), "seconds": time.perf_counter() - started, "chunks": chunks}))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--copies", type=int, default=1, help="copies of the corpus for the timing")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--modes", default="late", help="chunk_vectors modes to time: late,embed,pool")
    parser.add_argument("--rss-copies", default="1,4", help="corpus sizes (copies) for peak RSS; '' to skip")
    parser.add_argument("--data", type=Path, default=DATA, help="folder of the calibration files")
    parser.add_argument("--child", nargs=3, metavar=("ROLE", "DOCS", "INDEX"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args.child[0], Path(args.child[1]), Path(args.child[2]))
        return 0
    with tempfile.TemporaryDirectory(prefix="citebot-indexing-") as folder:
        tmp = Path(folder)
        if args.rounds:
            write_corpus(tmp / "docs", args.data, args.copies)
            timing(tmp / "docs", tmp, rounds=args.rounds, modes=args.modes.split(","))
        if args.rss_copies:
            memory(args.data, tmp, [int(n) for n in args.rss_copies.split(",")])
    return 0


if __name__ == "__main__":
    sys.exit(main())
