"""The systems compared by benchmarks/quality.py: citebot, plain llama-index and BM25, with cached indexes.

Everything this reads from a loaded Bot is in the four `bot_*` functions below, so a change in how the bot stores
its index needs a change there only.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from common import ROOT  # noqa: I001
from quality_metrics import Reply

from bot import Answer, Bot, Citation, Passage, Settings
from bot.answerer import clean_question
from index.documents.chunking import Span
from index.pipeline import index_config, index_paths

OUT = ROOT / "benchmarks" / "out"
History = Sequence[tuple[str, Answer]]
AnswerFn = Callable[[str, History], Answer]


# --- the only places that reach into a loaded Bot --------------------------------------------------------------


def bot_chunks(bot: Bot) -> list[Span]:
    """Every chunk of the index (source, text, start, end), in index order."""
    numbered = getattr(bot.stored.chunks, "numbered", None)  # Milvus: rows are ids, listed in order
    return [c for _, c in numbered()] if numbered else list(bot.stored.chunks)


@dataclass(frozen=True)
class SentenceView:
    """Sentences of the index, the sentences inside each chunk (by chunk row) and their unit vectors."""

    sentences: Sequence[Span]
    chunk_sentences: Sequence[Sequence[int]]
    vectors: np.ndarray


def bot_sentences(bot: Bot) -> SentenceView:
    stored = bot.stored
    numbered = getattr(stored.sentences, "numbered", None)
    if numbered is None:
        return SentenceView(stored.sentences, stored.chunk_sentences, np.asarray(stored.sentence_vectors))
    ids, spans = zip(*numbered(), strict=True)  # Milvus: rows are ids; the baselines number them by position
    at = {row: i for i, row in enumerate(ids)}
    members = [[at[s] for s in stored.chunk_sentences[row]] for row, _ in stored.chunks.numbered()]  # type: ignore[attr-defined]
    return SentenceView(list(spans), members, stored.sentence_vectors[list(ids)])


def bot_embedder(bot: Bot) -> Any:
    """The bot's query embedder (get_query_embedding; ONNX Runtime by default)."""
    return bot.engine.retriever.embedder


_TORCH: dict[str, Any] = {}


def plain_embedder(bot: Bot) -> Any:
    """The same MiniLM as a llama-index embedding (torch), as plain llama-index would use it; loaded once."""
    from index.embedding.embeddings import make_embedder

    model = bot.settings.embed_model
    if model not in _TORCH:
        _TORCH[model] = make_embedder(model, threads=bot.settings.query_threads)
    return _TORCH[model]


def bot_strict(bot: Bot, settings: Settings) -> Bot:
    """The same index answered in strict mode (higher refusal threshold)."""
    return Bot.load(settings=replace(settings, strict=True), embedder=bot_embedder(bot))


# --- indexes, cached under benchmarks/out/ ----------------------------------------------------------------------


def cache_key(*parts: bytes) -> str:
    """A short hash of the data, the index settings and the indexing code: a change in any one rebuilds."""
    digest = hashlib.sha256()
    for part in parts:
        digest.update(hashlib.sha256(part).digest())
    for path in sorted((ROOT / "index").rglob("*.py")):
        digest.update(path.read_bytes())
    return digest.hexdigest()[:12]


def build_index(name: str, data: bytes, write_docs: Callable[[Path], None] | Path) -> tuple[Settings, float]:
    """Index a set's documents into benchmarks/out/<name>-<key>/ (reused when unchanged); settings and seconds."""
    settings = Settings.from_env()
    folder = OUT / f"{name}-{cache_key(data, repr(index_config(settings)).encode())}"
    settings = replace(settings, index_dir=folder / "index")
    docs = write_docs if isinstance(write_docs, Path) else folder / "docs"
    if not isinstance(write_docs, Path) and not (folder / "docs.done").exists():
        write_docs(docs)
        (folder / "docs.done").touch()
    started = time.perf_counter()
    index_paths([docs], settings)
    return settings, time.perf_counter() - started


STANDARD = {"question", "answer", "refused", "citations", "passages", "latency_ms"}


def reply_of(answer: Answer, ms: float) -> Reply:
    """What the benchmark keeps of an Answer; fields added to `Answer.to_dict()` later land in `extra`."""
    citations = [(c.source, c.start, c.end) for c in answer.citations]
    extra = {k: v for k, v in answer.to_dict().items() if k not in STANDARD}
    return Reply(answer.text, answer.refused, citations, [p.source for p in answer.passages], round(ms, 2), extra)


def ask(answer_fn: AnswerFn, question: str, history: History = ()) -> tuple[Answer, Reply]:
    """Ask one question, timed the same way for every system."""
    started = time.perf_counter()
    answer = answer_fn(question, history)
    return answer, reply_of(answer, (time.perf_counter() - started) * 1000)


# --- baselines -------------------------------------------------------------------------------------------------


class Baseline:
    """A retriever alone: its top-5 chunks, answered with the single sentence closest to the question by cosine."""

    def __init__(self, retrieve: Callable[[Any], list[Any]], bot: Bot, *, dense: bool) -> None:
        self.retrieve = retrieve
        self.dense = dense
        self.view = bot_sentences(bot)
        self.embedder = plain_embedder(bot)
        self.rows = {_node_id(c): i for i, c in enumerate(bot_chunks(bot))}
        self.chunks = bot_chunks(bot)

    def __call__(self, question: str, history: History = ()) -> Answer:
        """Answer `question`; a baseline has no notion of history."""
        from llama_index.core.schema import QueryBundle

        question = clean_question(question)
        vector = np.asarray(self.embedder.get_query_embedding(question), dtype=np.float32)
        query = QueryBundle(question, embedding=vector.tolist()) if self.dense else question
        hits = self.retrieve(query)
        rows = [self.rows[h.node.node_id] for h in hits]
        passages = [Passage(self.chunks[r].source, self.chunks[r].text, self.chunks[r].start, self.chunks[r].end,
                            round(float(h.score or 0.0), 4)) for r, h in zip(rows, hits, strict=True)]  # fmt: skip
        inside = [i for r in rows for i in self.view.chunk_sentences[r]]
        if not inside:
            return Answer(question, "", False, [], passages)
        best = max(inside, key=lambda i: float(self.view.vectors[i] @ vector))
        s = self.view.sentences[best]
        score = round(float(self.view.vectors[best] @ vector), 4)
        return Answer(
            question, f"{s.text} [1]", False, [Citation(1, s.source, s.text, s.start, s.end, score)], passages
        )


def _node_id(chunk: Span) -> str:
    """Results map back to chunks by (source, start)."""
    return f"{chunk.source}@{chunk.start}"


def baselines(bot: Bot, cache: Path) -> dict[str, AnswerFn]:
    """Plain llama-index (VectorStoreIndex, same MiniLM, FAISS IndexFlatIP, top 5) and BM25 (top 5) on the same chunks.

    The plain index's chunk vectors are the embedder's own (`get_text_embedding_batch`, as VectorStoreIndex would
    compute them), cached in `cache` by a hash of the chunk texts.
    """
    import faiss
    from llama_index.core import StorageContext, VectorStoreIndex
    from llama_index.core.schema import BaseNode, TextNode
    from llama_index.retrievers.bm25 import BM25Retriever
    from llama_index.vector_stores.faiss import FaissVectorStore

    chunks = bot_chunks(bot)
    vectors = _plain_vectors(plain_embedder(bot), [c.text for c in chunks], cache)
    nodes = [TextNode(id_=_node_id(c), text=c.text, embedding=v.tolist()) for c, v in zip(chunks, vectors, strict=True)]
    context = StorageContext.from_defaults(
        vector_store=FaissVectorStore(faiss_index=faiss.IndexFlatIP(vectors.shape[1]))
    )
    plain = VectorStoreIndex(nodes, storage_context=context, embed_model=plain_embedder(bot))
    plain_nodes: list[BaseNode] = [TextNode(id_=n.id_, text=n.text) for n in nodes]
    bm25 = BM25Retriever.from_defaults(nodes=plain_nodes, similarity_top_k=min(5, len(nodes)))
    return {
        "llama-index": Baseline(plain.as_retriever(similarity_top_k=5).retrieve, bot, dense=True),
        "BM25": Baseline(bm25.retrieve, bot, dense=False),
    }


def baseline_replies(
    bot: Bot, cache: Path, questions: Sequence[str], *, fresh: bool = False
) -> tuple[dict[str, list[Reply]], bool]:
    """Each baseline's reply to every question (asked alone), and whether they came from `cache`.

    Replies are reused when the questions and this file are unchanged (`cache` is per index, so the index is
    unchanged too): a rerun only asks citebot. Their latencies are those of the run that asked them.
    """
    key = hashlib.sha256(Path(__file__).read_bytes() + "\0".join(questions).encode()).hexdigest()[:12]
    path = cache / f"baselines-{key}.json"
    if path.exists() and not fresh:
        saved = json.loads(path.read_text(encoding="utf-8"))
        return {n: [_reply(r) for r in rs] for n, rs in saved.items()}, True
    replies = {n: [ask(fn, q)[1] for q in questions] for n, fn in baselines(bot, cache).items()}
    path.write_text(json.dumps({n: [r.to_dict() for r in rs] for n, rs in replies.items()}), encoding="utf-8")
    return replies, False


def _reply(saved: dict[str, Any]) -> Reply:
    return Reply(**{**saved, "citations": [(s, a, b) for s, a, b in saved["citations"]]})


def _plain_vectors(embedder: Any, texts: list[str], cache: Path) -> np.ndarray:
    key = hashlib.sha256("\0".join(texts).encode()).hexdigest()[:12]
    path = cache / f"plain-{key}.npy"
    if path.exists():
        return np.asarray(np.load(path), dtype=np.float32)
    vectors = np.asarray(embedder.get_text_embedding_batch(texts), dtype=np.float32)
    np.save(path, vectors)
    return vectors
