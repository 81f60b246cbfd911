"""SQuAD 2.0 benchmark: citebot against plain llama-index and BM25 alone, side by side, in one run.

Each paragraph becomes a document; every question is asked. Usage:
    python benchmarks/squad.py [data/squad2-dev-sample.json] [--off-topic data/off_topic.txt] [--json out.json]

Data: SQuAD 2.0 (Rajpurkar, Jia and Liang, ACL 2018), CC BY-SA 4.0; see data/README.md.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import string
import sys
import tempfile
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")

from bot import Bot, Settings  # noqa: E402
from bot.answerer import clean_question  # noqa: E402
from index.pipeline import index_paths  # noqa: E402


@dataclass(frozen=True)
class Question:
    text: str
    source: str
    answers: tuple[str, ...]
    impossible: bool


@dataclass(frozen=True)
class Result:
    """What one system did with one question."""

    sources: list[str]
    answer: str
    refused: bool
    ms: float


def normalize(text: str) -> str:
    """SQuAD's official answer normalisation: lower case, no punctuation, articles or extra white space."""
    text = "".join(ch for ch in text.lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def write_documents(path: Path, folder: Path) -> list[Question]:
    """Write each paragraph as `<title>-<nnn>.txt` and return the questions."""
    data = json.loads(path.read_text(encoding="utf-8"))
    questions = []
    for article in data["data"]:
        for i, paragraph in enumerate(article["paragraphs"]):
            name = f"{re.sub(r'[^A-Za-z0-9]+', '_', article['title'])}-{i:03d}.txt"
            (folder / name).write_text(paragraph["context"], encoding="utf-8")
            for qa in paragraph["qas"]:
                answers = tuple(a["text"] for a in qa["answers"])
                questions.append(Question(qa["question"], name, answers, bool(qa.get("is_impossible"))))
    return questions


def run_citebot(bot: Bot, questions: Sequence[str]) -> list[Result]:
    out = []
    for q in questions:
        a = bot.answer(q)
        out.append(Result([p.source for p in a.passages], a.text, a.refused, a.latency_ms))
    return out


def run_retriever(retrieve: Callable[[str], list[Any]], bot: Bot, questions: Sequence[str]) -> list[Result]:
    """A baseline: its own top-5 chunks, answered with the single sentence closest by cosine inside them."""
    stored = bot.stored
    row = {cid: i for i, cid in enumerate(stored.chunk_ids)}
    out = []
    for q in questions:
        started = time.perf_counter()
        nodes = retrieve(q)
        vector = bot.engine.retriever.embed(q)
        rows = [row[n.node.node_id] for n in nodes]
        sentences = [i for r in rows for i in stored.chunk_sentences[r]]
        best = max(sentences, key=lambda i: float(stored.sentence_vectors[i] @ vector), default=None)
        answer = stored.sentences[best].text if best is not None else ""
        ms = (time.perf_counter() - started) * 1000
        out.append(Result([stored.chunks[r].source for r in rows], answer, False, ms))
    return out


def metrics(results: Sequence[Result], questions: Sequence[Question]) -> dict[str, float]:
    """hit@1/hit@5 and answer recall over answerable questions; refusal rates; latency."""
    answerable = [(r, q) for r, q in zip(results, questions, strict=True) if not q.impossible]
    impossible = [r for r, q in zip(results, questions, strict=True) if q.impossible]
    answered = [(r, q) for r, q in answerable if not r.refused]
    words = [len(re.sub(r"\[\d+\]", "", r.answer).split()) for r, _ in answered]
    latencies = sorted(r.ms for r in results)
    return {
        "hit@1": _mean(bool(r.sources) and r.sources[0] == q.source for r, q in answerable),
        "hit@5": _mean(q.source in r.sources[:5] for r, q in answerable),
        "answer recall": _mean(
            not r.refused and any(normalize(g) in normalize(r.answer) for g in q.answers) for r, q in answerable
        ),
        "median words": float(statistics.median(words)) if words else 0.0,
        "refused (answerable)": _mean(r.refused for r, _ in answerable),
        "refused (unanswerable)": _mean(r.refused for r in impossible),
        "latency p50 ms": float(np.percentile(latencies, 50)),
        "latency p95 ms": float(np.percentile(latencies, 95)),
    }


def _mean(values: Any) -> float:
    items = [bool(v) for v in values]
    return sum(items) / len(items) if items else 0.0


def baselines(bot: Bot) -> dict[str, Callable[[str], list[Any]]]:
    """Plain llama-index (VectorStoreIndex, same MiniLM, FAISS, default retriever but top 5) and BM25 alone."""
    import faiss
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.schema import TextNode
    from llama_index.retrievers.bm25 import BM25Retriever
    from llama_index.vector_stores.faiss import FaissVectorStore

    nodes = [TextNode(id_=cid, text=c.text) for cid, c in zip(bot.stored.chunk_ids, bot.stored.chunks, strict=True)]
    context = StorageContext.from_defaults(vector_store=FaissVectorStore(faiss_index=faiss.IndexFlatIP(384)))
    plain = VectorStoreIndex(nodes, storage_context=context, embed_model=bot.engine.retriever.embedder)
    dense = plain.as_retriever(similarity_top_k=5)
    bm25 = BM25Retriever.from_defaults(nodes=nodes, similarity_top_k=5)
    return {"llama-index": dense.retrieve, "BM25": bm25.retrieve}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("data", nargs="?", type=Path, default=ROOT / "data" / "squad2-dev-sample.json")
    parser.add_argument("--off-topic", type=Path, default=ROOT / "data" / "off_topic.txt")
    parser.add_argument("--json", type=Path, help="write the metrics as JSON")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="citebot-squad-") as tmp:
        docs = Path(tmp) / "docs"
        docs.mkdir()
        questions = write_documents(args.data, docs)
        settings = Settings.from_env({}, index_dir=Path(tmp) / "index")
        started = time.perf_counter()
        index_paths([docs], settings)
        print(f"indexed {len(list(docs.iterdir()))} paragraphs in {time.perf_counter() - started:.1f} s; "
              f"asking {len(questions)} questions ({sum(q.impossible for q in questions)} unanswerable)")  # fmt: skip
        bot = Bot.load(settings=settings)
        strict = Bot(bot.stored, bot.engine.retriever.embedder, replace(settings, strict=True))
        texts = [clean_question(q.text) for q in questions]
        columns = {"citebot": metrics(run_citebot(bot, texts), questions)}
        columns["citebot --strict"] = metrics(run_citebot(strict, texts), questions)
        for name, retrieve in baselines(bot).items():
            columns[name] = metrics(run_retriever(retrieve, bot, texts), questions)
        off_topic = [line.strip() for line in args.off_topic.read_text(encoding="utf-8").splitlines() if line.strip()]
        off = _mean(bot.answer(q).refused for q in off_topic)
    print_table(columns)
    print(f"\noff-topic questions refused: {off:.1%} of {len(off_topic)}")
    base = columns["llama-index"]
    for key in ("hit@1", "hit@5", "answer recall"):
        print(f"ratio citebot / llama-index, {key}: {columns['citebot'][key] / max(base[key], 1e-9):.3f}")
    if args.json:
        args.json.write_text(json.dumps({"columns": columns, "off_topic_refused": off}, indent=2), encoding="utf-8")
    return 0


def print_table(columns: dict[str, dict[str, float]]) -> None:
    names = list(columns)
    print(f"\n{'metric':<24}" + "".join(f"{n:>18}" for n in names))
    for key in next(iter(columns.values())):
        cells = [columns[n][key] for n in names]
        fmt = "{:>18.1f}" if "ms" in key or "words" in key else "{:>18.3f}"
        print(f"{key:<24}" + "".join(fmt.format(c) for c in cells))


if __name__ == "__main__":
    sys.exit(main())
