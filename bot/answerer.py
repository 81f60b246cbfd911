"""Bot: load an index once; answer with cited sentences (or an LLM held to the same citations), or refuse."""

from __future__ import annotations

import threading
import time
import unicodedata
from collections.abc import Generator, Iterator
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, cast

from bot.citations import with_locations
from bot.config import Settings
from bot.conversation import Context, History, queries_for
from bot.engine import REFUSAL, Engine, Evidence
from bot.errors import CitebotError, EmptyQuestion
from bot.llm.backends import LLMError, TextModel
from bot.reader import Reader, load_reader
from bot.retrieval import Query
from bot.types import Answer

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from index.store import StoredIndex

__all__ = ["REFUSAL", "Bot", "answer", "clean_question"]
MAX_QUESTION_CHARS = 2000


class Bot:
    """Answers questions over one index. Thread-safe: model calls are serialised, index swaps are atomic."""

    def __init__(
        self,
        stored: StoredIndex,
        embedder: BaseEmbedding,
        settings: Settings,
        *,
        llm: TextModel | None = None,
        reader: Reader | None = None,
    ) -> None:
        self.settings = settings
        self.llm = llm
        self.warnings: list[str] = []  # set-up problems shown with every answer (e.g. a broken LLM backend)
        self.reader = reader or load_reader(
            settings.reader_dir, threads=settings.query_threads, workers=settings.reader_workers
        )
        self.engine = Engine(stored, embedder, self.reader)
        self._lock = threading.Lock()  # torch, FAISS and BM25 calls are not guaranteed thread-safe
        self._swap = threading.Lock()  # one index load at a time (reload, or following CURRENT)
        self._refused: str | None = None  # a newer version built with another model: not followed

    @property
    def stored(self) -> StoredIndex:
        return self.engine.stored

    @classmethod
    def load(
        cls,
        index_dir: Path | str | None = None,
        *,
        settings: Settings | None = None,
        embedder: BaseEmbedding | None = None,
        llm: TextModel | None = None,
    ) -> Bot:
        """Load the index at `index_dir` (default: settings.index_dir), the embedding model and the LLM backend."""
        from bot.llm.backends import make_llm
        from index.access import load_index
        from index.embedding.query_embed import make_query_embedder
        from index.pipeline import index_config
        from index.threads import configure

        settings = settings or Settings.from_env()
        # a damaged install fails first
        reader = load_reader(settings.reader_dir, threads=settings.query_threads, workers=settings.reader_workers)
        configure(settings.query_threads)  # threads per question: the query encoder's and the segment searches
        if index_dir is not None:
            settings = replace(settings, index_dir=Path(index_dir))
        config = index_config(settings)
        expect = config if embedder is None else None
        if embedder is None:  # ONNX (no torch import), opening in a background thread while the index loads
            query = make_query_embedder(
                settings.embed_model, cache_dir=settings.cache_dir, threads=settings.query_threads
            )
            embedder = cast("BaseEmbedding", query)  # retrieval only calls get_query_embedding
        stored = load_index(settings.index_dir, expect=expect, remote=config)
        problems = []
        if llm is None:
            try:
                llm = make_llm(settings)
            except LLMError as exc:
                problems.append(f"{exc}; answering without an LLM")
        bot = cls(stored, embedder, settings, llm=llm, reader=reader)
        bot.warnings = problems
        return bot

    def reload(self) -> None:
        """Pick up the index as it is now on disk (after `citebot index` or an upload)."""
        from index.access import load_index
        from index.pipeline import index_config

        with self._swap:
            stored = load_index(self.settings.index_dir, remote=index_config(self.settings))
            self.engine = Engine(stored, self.engine.retriever.embedder, self.reader)

    def follow_current(self) -> None:
        """Swap in a newer version of the loaded index if another process wrote one (a read of its CURRENT file).

        Questions asked meanwhile keep the version they started with; a version that cannot be loaded (replaced
        again while loading) is skipped until the next call; one built with another model is refused with a warning.
        """
        from index.access import live_version, load_index
        from index.pipeline import index_config

        index_dir, loaded, remote = self.stored.path.parent, self.stored.path.name, index_config(self.settings)
        live = live_version(index_dir, remote=remote)
        if live in (None, loaded, self._refused) or not self._swap.acquire(blocking=False):
            return
        try:
            if self.stored.path.name != loaded:  # another thread swapped it meanwhile
                return
            stored = load_index(index_dir, remote=remote)
            if _model_of(stored) != _model_of(self.stored):
                self._refused, self.warnings = live, [*self.warnings, _REBUILT.format(index_dir=index_dir)]
                return
            self.engine = Engine(stored, self.engine.retriever.embedder, self.reader)
        except CitebotError:
            return
        finally:
            self._swap.release()

    def answer(self, question: str, history: History = ()) -> Answer:
        """Answer `question`, using `history` (earlier (question, answer) pairs) for follow-ups."""
        final = None
        for event in self.stream(question, history):
            if isinstance(event, Answer):
                final = event
        assert final is not None
        return final

    def stream(self, question: str, history: History = ()) -> Iterator[str | Answer]:
        """Yield the answer as it is written (text pieces), then the final, verified `Answer`."""
        started = time.perf_counter()
        question = clean_question(question)
        self.follow_current()
        engine, warnings = self.engine, list(self.warnings)
        context = engine.context(history)
        with self._lock:
            overview = engine.overview(question, context, self.settings)
        if overview is not None:  # "What is this article about?": the document's opening
            yield from (f"{c.quote} [{c.n}] " for c in overview.citations)
            yield _finished(overview, engine, started, warnings, [question])
            return
        thread = context
        if context is not None:
            with self._lock:  # the embedding model is called by one question at a time
                follows = engine.follows(question, context)
                follows = follows and not engine.moves_on(question, context, top_k=self.settings.top_k)
            context = context if follows else None  # a new question: retrieved, scored and refused on its own words
        queries = self._queries(question, history, context, warnings)
        with self._lock:
            queries, evidence = self._search(engine, queries, context)
        said = [context.question, context.answer] if context is not None else []
        result = engine.extractive(question, evidence, self.settings, said)
        if result.refused and thread is not None and context is None:  # a new question, but on the same document?
            result = engine.on_thread(question, evidence, thread, self.settings) or result
        if self.llm is not None and not result.refused:  # weak evidence: refuse without calling the model
            result = yield from self._generate(engine, question, evidence, result, warnings)
        else:
            yield from (f"{c.quote} [{c.n}] " for c in result.citations)
        yield _finished(result, engine, started, warnings, [q.text for q in queries])

    def _search(self, engine: Engine, queries: list[Query], context: Context | None) -> tuple[list[Query], Evidence]:
        """Gather evidence; if the question has misspelled words, again with them corrected (bot/question/)."""
        evidence = engine.gather(queries[0].text, queries, top_k=self.settings.top_k, context=context)
        if not self.settings.respell:
            return queries, evidence
        fixed = engine.respell(queries[0].text, evidence)
        if fixed == queries[0].text:
            return queries, evidence
        queries = [Query(q.text.replace(queries[0].text, fixed), q.weight) for q in queries]
        return queries, engine.gather(fixed, queries, top_k=self.settings.top_k, context=context)

    def _queries(self, question: str, history: History, context: Context | None, warnings: list[str]) -> list[Query]:
        """Retrieval queries; with an LLM, a follow-up is first condensed into a standalone question."""
        if self.llm is None or not history:
            return queries_for(question, context)
        from bot.llm.backends import condense

        try:
            return [Query(condense(self.llm, question, history))]
        except LLMError as exc:
            warnings.append(f"{exc}; the follow-up was not condensed")
            return queries_for(question, context)

    def _generate(
        self, engine: Engine, question: str, evidence: Evidence, fallback: Answer, warnings: list[str]
    ) -> Generator[str, None, Answer]:
        """Stream the model's reply, then repair its citations; fall back to `fallback` if it fails."""
        from bot.llm.prompts import number_passages, render
        from bot.llm.repair import repair

        assert self.llm is not None
        passages = engine.passages(evidence)
        prompt = render("answer", question=question, passages=number_passages([(p.source, p.text) for p in passages]))
        reply: list[str] = []
        try:
            for piece in self.llm.stream(render("system"), prompt):
                reply.append(piece)
                yield piece
        except LLMError as exc:
            warnings.append(f"{exc}; showing the extractive answer")
            return fallback
        drop = self.settings.llm_unsupported == "drop"
        fixed = repair("".join(reply), engine.sentences_by_passage(evidence), engine.vocabulary, drop=drop)
        if not fixed.citations:
            warnings.append("The model's answer cited no passage; showing the extractive answer")
            return fallback
        if fixed.flagged or fixed.dropped:
            how = "marked [unsupported]" if fixed.flagged else "dropped"
            warnings.append(f"{fixed.flagged + fixed.dropped} sentence(s) without a valid citation were {how}")
        return Answer(question, fixed.text, False, fixed.citations, passages)


_REBUILT = "The index at {index_dir} was rebuilt with another embedding model: restart citebot to answer from it"


def _model_of(stored: StoredIndex) -> tuple[object, object]:
    return stored.manifest.get("embed_model"), stored.manifest.get("dim")


def clean_question(question: str) -> str:
    """Normalise a question: drop control characters, collapse white space, cap the length; refuse an empty one.

    Example: "  Why\\x00 NATO?\\n" -> "Why NATO?"
    """
    text = "".join(" " if unicodedata.category(ch)[0] == "C" else ch for ch in str(question))
    text = " ".join(text.split())[:MAX_QUESTION_CHARS]
    if not any(ch.isalnum() for ch in text):
        raise EmptyQuestion("The question is empty: ask something about the documents")
    return text


_default: dict[Path, Bot] = {}
_default_lock = threading.Lock()


def answer(question: str, history: History = (), *, index_dir: Path | str | None = None) -> Answer:
    """Answer with a Bot loaded once per index folder (default: Settings.from_env().index_dir).

    Example: answer("Why can't Ukraine join NATO?").text -> "The embattled eastern European nation ... [1]"
    """
    key = Path(index_dir) if index_dir is not None else Settings.from_env().index_dir
    with _default_lock:
        if key not in _default:
            _default[key] = Bot.load(key)
    return _default[key].answer(question, history)


def _finished(result: Answer, engine: Engine, started: float, warnings: list[str], searched: list[str]) -> Answer:
    """The answer as returned: citations with their page or section, latency since `started`, what was searched."""
    latency = round((time.perf_counter() - started) * 1000, 2)
    located = with_locations(result.citations, engine.stored.locations)
    return replace(result, citations=located, latency_ms=latency, warnings=warnings, searched=searched)
