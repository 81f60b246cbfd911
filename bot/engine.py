"""One loaded index ready to answer from: retrieval, sentence evidence and the extractive answer."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from functools import cached_property
from typing import TYPE_CHECKING

import numpy as np

from bot.citations import compose
from bot.config import Settings
from bot.conversation import Context, History, Quote, asks_for_more, context_of, elliptical, names, refers_back
from bot.extractive import Candidate, select, terms
from bot.question.answer_types import asks_what, expected_type, names_someone_new, starts_with_pronoun, topic_terms
from bot.question.overview import asks_for_overview
from bot.question.spelling import respell
from bot.question.titles import Titles, title
from bot.reader import Reader, Reading
from bot.retrieval import Hit, Query, Retriever
from bot.types import Answer, Passage, Short
from index.documents.chunking import Span
from index.search.lexical import is_english, stems, term_set

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

    from index.store import StoredIndex

REFUSAL = "The documents don't contain an answer to that question."
NEAR_CHARS = 3  # white space between a quote and the sentence after it
NAMED_DOCUMENTS = 3  # documents a question names by title (bot/question/titles.py) whose nearest passage is scored too
THREAD_COSINE = 0.25  # a short question with words the documents lack continues the thread from this cosine on
MOVE_ON = 0.4  # a follow-up-looking question that alone finds this much evidence in another document moves on
ON_THREAD = 0.28  # the refusal threshold for a new question whose best sentence is in the conversation's document
_DIGIT = re.compile(r"\d")
ANTECEDENT_LOOK_BACK = 5  # sentences searched back for the one that names a quote's "he" or "she"
SHORT_SCORE = 0.2  # the reader's confidence in a span from which it is shown as the short answer (docs/reader.md)
PRESELECT = 8  # sentences the reader reads per question, the best by fitted score
PRIOR = 0.3  # weight of the fitted score beside the reader's log-odds (benchmarks/tune_reader.py)
SECOND_MARGIN = 1.5  # a runner-up of the same document within this much of the first (log-odds) is quoted too
# P(the documents answer) from the reader's log-odds for the first sentence and the best evidence: a logistic
# regression fitted on the dev split (benchmarks/tune_reader.py "refusal, fitted"); --strict refuses below
# Settings.strict_min_score
ANSWERABLE = (0.615, 9.573, -5.194)


@dataclass(frozen=True)
class Evidence:
    """What retrieval found for a question: passages (best first) and every sentence in them, scored."""

    hits: list[Hit]
    candidates: list[Candidate]

    def strength(self) -> float:
        """The best sentence's score: the refusal signal."""
        return max((c.evidence for c in self.candidates), default=-1.0)


class Engine:
    """An immutable view of one index version; a Bot swaps in a new Engine after re-indexing."""

    def __init__(self, stored: StoredIndex, embedder: BaseEmbedding, reader: Reader) -> None:
        self.stored = stored
        self.retriever = Retriever(stored, embedder)
        self.vocabulary = stored.vocabulary
        self.reader = reader

    def gather(
        self, question: str, queries: Sequence[Query], *, top_k: int, context: Context | None = None
    ) -> Evidence:
        """Retrieve with every query, score the sentences of the passages against `question`, rerank.

        The nearest passage of a document the question names by title (bot/question/titles.py) is scored too, and for a
        follow-up the passages the previous answer quoted (and the ones after them).
        """
        vectors = [self.retriever.embed(q.text) for q in queries]
        hits = self.retriever.search(queries, vectors, k=top_k)
        hits += self._named_hits(question, {h.chunk for h in hits}, vectors[0])
        if context is not None:
            hits += self._context_hits(context, {h.chunk for h in hits}, vectors[0])
        candidates = self._candidates(question, hits, vectors, context)
        return Evidence(rerank(hits, candidates)[:top_k], candidates)

    def respell(self, question: str, evidence: Evidence) -> str:
        """The question with misspelled words spelled as the retrieved passages spell them (bot/question/)."""
        counts = self.vocabulary.counts
        texts = (self.stored.chunks[h.chunk].text for h in evidence.hits)
        return respell(
            question,
            texts,
            known=lambda word: counts.get(stems([word])[0], 0) > 0,
            real=is_english,
        )

    def context(self, history: History) -> Context | None:
        """The conversation state after `history`, its quotes located in this index."""
        return context_of(history, self.locate)

    def locate(self, quote: str) -> list[Quote]:
        """Where a quoted sentence stands in the index (empty if it is not one of its sentences)."""
        sentences = self.stored.sentences
        return [(s.source, s.start, s.end) for s in (sentences[i] for i in self.stored.find_sentence(quote))]

    def follows(self, question: str, context: Context) -> bool:
        """Whether a question continues the conversation (scored and refused with it) or stands on its own.

        It does when it refers back ("What did he say?", "And then?"), or when it is short ("When?", "What county?")
        and every word of it is in the documents, or one is in the document the previous answer quoted, or it is
        close in meaning (THREAD_COSINE) to the previous question or answer. A short question that brings in words
        the documents never use and has nothing to do with the previous turn ("What is the capital of Australia?"
        after a question about the Normans) is a new one. What each test measured: docs/how-it-answers.md.
        """
        if refers_back(question):
            return True
        if not elliptical(question) or names(question):
            return False
        own = topic_terms(question)
        if all(self.vocabulary.counts.get(t, 0) for t in own):
            return True
        if own & self._quoted_terms(context):
            return True
        vector = self.retriever.embed(question)
        earlier = [self.retriever.embed(text) for text in (context.question, context.answer) if text]
        return max((float(vector @ v) for v in earlier), default=0.0) >= THREAD_COSINE

    def overview(self, question: str, context: Context | None, settings: Settings) -> Answer | None:
        """The opening sentences of the document a question asks about as a whole (bot/question/overview.py), or None
        when it asks about none: it names no document by title, the conversation quotes none and the index holds
        several."""
        named = self._titles.named(terms(question), limit=1)
        if not asks_for_overview(question, names_a_document=bool(named)):
            return None
        quoted = context.sources if context else ()
        sources = named or list(quoted[:1]) or (self._titles.sources if len(self._titles.sources) == 1 else [])
        if not sources:
            return None
        chunks = self.stored.chunks_of(sources[0])
        if not chunks:
            return None
        first = chunks[0]
        vector = self.retriever.embed(question)
        rows = self.stored.chunk_sentences[first][: settings.max_sentences]
        sentences = self.stored.sentences
        quotes = [(sentences[i], float(self.stored.sentence_vectors[i] @ vector)) for i in rows]
        text, citations = compose(quotes)
        chunk = self.stored.chunks[first]
        passage = Passage(
            chunk.source, chunk.text, chunk.start, chunk.end, round(float(self.stored.chunk_vectors[first] @ vector), 4)
        )
        return Answer(question, text, False, citations, [passage])

    def moves_on(self, question: str, context: Context, *, top_k: int) -> bool:
        """Whether a question that `follows` the conversation is really a new one: it says enough of its own (more
        than two content words) and, asked alone, finds evidence of MOVE_ON or more in a document the previous answer
        did not quote. "when did they stop making jello pudding pops" after a turn on a song: its "they" is no
        reference.

        What it measured on the calibration sets asked in turn, and on CoQA: docs/how-it-answers.md and git log.
        """
        if elliptical(question) and not self._names_elsewhere(question, context):
            return False
        alone = self.gather(question, [Query(question)], top_k=top_k)
        best = max(alone.candidates, key=lambda c: c.score, default=None)
        return best is not None and alone.strength() >= MOVE_ON and best.sentence.source not in context.sources

    def on_thread(self, question: str, evidence: Evidence, context: Context, settings: Settings) -> Answer | None:
        """The answer to a question that stands on its own and was refused, when its best sentence is in a document
        the conversation quoted and it names nothing that document never says: there ON_THREAD is enough evidence.

        "What happened to the city in 1681?" in a conversation about Trondheim ("A great fire in 1681 destroyed most
        of the medieval town"), where asked first it would be refused. Not in --strict. Its numbers: git log.
        """
        best = max(evidence.candidates, key=lambda c: c.score, default=None)
        if settings.strict or best is None or best.sentence.source not in context.sources:
            return None
        if self._names_elsewhere(question, context):
            return None
        looser = replace(settings, min_score=min(settings.min_score, ON_THREAD))
        answer = self.extractive(question, evidence, looser)
        return None if answer.refused else answer

    def _names_elsewhere(self, question: str, context: Context) -> bool:
        """Whether the question names something (a capitalised word past its first, or a word with a digit) that the
        documents the previous answer quoted never say: "When were the 76ers formed?" after a turn on baseball."""
        named = terms(" ".join(names(question) + [w for w in question.split() if _DIGIT.search(w)]))
        return bool(named) and not named <= self._quoted_terms(context)

    def _quoted_terms(self, context: Context) -> frozenset[str]:
        """The words (terms) of the documents the previous answer quoted."""
        chunks = [self.stored.chunks[r].text for source in context.sources for r in self.stored.chunks_of(source)]
        return frozenset().union(*(term_set(text) for text in chunks))

    @cached_property
    def _titles(self) -> Titles:
        return Titles(self.stored.manifest.get("files") or {c.source: None for c in self.stored.chunks})

    def _named_hits(self, question: str, seen: set[int], vector: np.ndarray) -> list[Hit]:
        """The nearest chunk of each document the question names by title, if not already retrieved."""
        hits = []
        for source in self._titles.named(terms(question), limit=NAMED_DOCUMENTS):
            rows = self.stored.chunks_of(source)
            if not rows:
                continue
            cosines = np.asarray(self.stored.chunk_vectors[rows]) @ vector
            best = int(np.argmax(cosines))
            if rows[best] not in seen:
                hits.append(Hit(rows[best], 0.0, float(cosines[best]), self.retriever.pool))
        return hits

    def _context_hits(self, context: Context, seen: set[int], vector: np.ndarray) -> list[Hit]:
        """The chunks holding the previous answer's quotes and the chunk after each, not already retrieved."""
        rows: list[int] = []
        for source, start, _ in context.quotes:
            chunks = self.stored.chunks_of(source)
            at = [j for j, r in enumerate(chunks) if self.stored.chunks[r].start <= start < self.stored.chunks[r].end]
            rows += [chunks[j] for j in at] + [chunks[j + 1] for j in at[-1:] if j + 1 < len(chunks)]
        rows = [r for r in dict.fromkeys(rows) if r not in seen]
        return [Hit(r, 0.0, float(self.stored.chunk_vectors[r] @ vector), self.retriever.pool) for r in rows]

    def _candidates(
        self, question: str, hits: Sequence[Hit], vectors: Sequence[np.ndarray], context: Context | None
    ) -> list[Candidate]:
        """Every sentence of the retrieved passages, scored against the question (and the conversation)."""
        kind = expected_type(question)
        sentences, sentence_vectors = self.stored.sentences, self.stored.sentence_vectors
        wanted = topic_terms(question)
        topic = wanted | (terms(context.question) if context else set())  # a follow-up's passage: its thread's words
        quoted = set(context.sources) if context else set()
        said = context.quotes if context and asks_for_more(question) else ()  # "Tell me more": not these again
        out = []
        for hit in hits:
            chunk = self.stored.chunks[hit.chunk]
            name = title(chunk.source)
            named = self.vocabulary.coverage(topic, name)
            passage_lexical = self.vocabulary.coverage(topic, chunk.text)
            for i in self.stored.chunk_sentences[hit.chunk]:
                sentence = sentences[i]
                if any(_near(sentence, q, gap=0) for q in said):
                    continue
                lexical = self.vocabulary.coverage(wanted, sentence.text)
                before = sentences[i - 1] if i > 0 and sentences[i - 1].source == sentence.source else None
                same_paragraph = before is not None and not _new_paragraph(chunk, before, sentence)
                out.append(
                    Candidate(
                        sentence,
                        cosine=float(sentence_vectors[i] @ vectors[0]),
                        lexical=lexical,
                        passage_cosine=hit.cosine,
                        passage_lexical=passage_lexical,
                        dense=1 / (1 + hit.dense_rank),
                        chunk=hit.chunk,
                        typed=kind is None or kind(sentence.text),
                        window=self.vocabulary.coverage(wanted, before.text, sentence.text)
                        if before and same_paragraph
                        else lexical,
                        lead=before is None,
                        title=named,
                        titled=self.vocabulary.coverage(wanted, name, sentence.text) if named else lexical,
                        context=float(sentence_vectors[i] @ vectors[-1]) if context else 0.0,
                        same_doc=sentence.source in quoted,
                        near=any(_near(sentence, q) for q in context.quotes) if context else False,
                        row=i,
                        wordless=not wanted,
                        before=before.text if before and same_paragraph else "",
                    )
                )
        return out

    def extractive(self, question: str, evidence: Evidence, settings: Settings, history: Sequence[str] = ()) -> Answer:
        """Cite the selected sentences, or refuse when the best evidence is below `min_score` (with --strict, also
        when the probability that the documents answer (`answerable`) is below `strict_min_score`); the reader's
        short answer inside the first sentence when it marks one with confidence (SHORT_SCORE)."""
        passages = self.passages(evidence)
        if not evidence.candidates or evidence.strength() < settings.min_score:
            return Answer(question, REFUSAL, True, [], passages)
        chosen, reading = self.choose(question, evidence.candidates, history, max_sentences=settings.max_sentences)
        best = chosen[0]
        if settings.strict and answerable(reading, evidence.strength()) < settings.strict_min_score:
            return Answer(question, REFUSAL, True, [], passages)
        quotes = [(c.sentence, c.evidence) for c in chosen]
        if asks_what(question) and starts_with_pronoun(best.sentence.text):
            quotes = self._named_first(best, quotes, names_someone_new(question))
        text, citations = compose(quotes)
        return Answer(question, text, False, citations, passages, short=_short(best, reading, quotes))

    def choose(
        self,
        question: str,
        candidates: Sequence[Candidate],
        history: Sequence[str],
        *,
        max_sentences: int,
    ) -> tuple[list[Candidate], Reading]:
        """The sentences to quote, best first, and the reader's reading of the first.

        The reader reads the PRESELECT best-scored sentences (after `history`, the turn a follow-up leans on), which
        are ordered by its log-odds plus PRIOR times their fitted score; the best runner-up from the same document
        is quoted too when within SECOND_MARGIN (one from another document is another answer, and would carry a
        conversation to two documents). "Tell me more" has nothing to read and keeps the fitted order, which prefers
        the sentences after the ones quoted. Constants from the dev split: docs/reader.md.
        """
        if asks_for_more(question):
            chosen = select(candidates, max_sentences=max_sentences)
            return chosen, self.reader.read(question, history, [reader_input(chosen[0])])[0]
        read = self.read(question, candidates, history)
        (best, reading), bar = read[0], _combined(read[0]) - SECOND_MARGIN
        same = [c for c, r in read[1:] if c.sentence.source == best.sentence.source and _combined((c, r)) >= bar]
        return [best, *same[: max_sentences - 1]], reading

    def read(
        self, question: str, candidates: Sequence[Candidate], history: Sequence[str] = ()
    ) -> list[tuple[Candidate, Reading]]:
        """The PRESELECT best-scored distinct sentences, read (after `history`), best first by `_combined`."""
        top = select(candidates, max_sentences=PRESELECT, margin=float("inf"))
        readings = self.reader.read(question, history, [reader_input(c) for c in top])
        return sorted(zip(top, readings, strict=True), key=lambda cr: -_combined(cr))

    def _named_first(
        self, best: Candidate, quotes: list[tuple[Span, float]], names: Callable[[str], bool]
    ) -> list[tuple[Span, float]]:
        """The quotes led by the sentence that names who the best one's "he", "she" or "they" is.

        That is the nearest sentence before it in its document (ANTECEDENT_LOOK_BACK at most) that does not start
        with a pronoun itself: "John Calipari is an American basketball coach. ... Since 2009, he has been the head
        coach of the University of Kentucky." Only for questions that ask who or what ("What is the largest ship ever
        built?" - "Overall, she is generally considered the largest ship ever built."), whose answer is that name,
        and only when that sentence names someone or something the question does not (`names`).
        """
        sentences = self.stored.sentences
        for row in range(best.row - 1, max(best.row - 1 - ANTECEDENT_LOOK_BACK, -1), -1):
            sentence = sentences[row]
            if sentence.source != best.sentence.source:
                break
            if starts_with_pronoun(sentence.text):
                continue
            if not names(sentence.text):
                return quotes
            return [(sentence, best.evidence)] + [q for q in quotes if q[0] != sentence]
        return quotes

    def passages(self, evidence: Evidence) -> list[Passage]:
        """The retrieved chunks as Passages, best first."""
        chunks = self.stored.chunks
        return [Passage(chunks[h.chunk].source, chunks[h.chunk].text, chunks[h.chunk].start, chunks[h.chunk].end,
                        round(h.cosine, 4)) for h in evidence.hits]  # fmt: skip

    def sentences_by_passage(self, evidence: Evidence) -> list[list[Candidate]]:
        """For each passage (in `evidence.hits` order), its scored sentences."""
        by_chunk: dict[int, list[Candidate]] = {}
        for c in evidence.candidates:
            by_chunk.setdefault(c.chunk, []).append(c)
        return [by_chunk.get(h.chunk, []) for h in evidence.hits]


def answerable(reading: Reading, strength: float) -> float:
    """The probability that the documents answer the question, from the reader and the evidence (ANSWERABLE)."""
    a, b, bias = ANSWERABLE
    return float(1 / (1 + np.exp(-(a * reading.log_odds + b * strength + bias))))


def _combined(read: tuple[Candidate, Reading]) -> float:
    """A read sentence's rank: the reader's log-odds plus PRIOR times its fitted score."""
    return read[1].log_odds + PRIOR * read[0].score


def _short(best: Candidate, reading: Reading, quotes: Sequence[tuple[Span, float]]) -> Short | None:
    """The reader's span in the best sentence as the answer's short form (None below SHORT_SCORE)."""
    if reading.span_score < SHORT_SCORE or reading.end <= reading.start:
        return None
    n = next(i for i, (s, _) in enumerate(quotes, 1) if s == best.sentence)
    at = best.sentence.start + reading.start
    text = best.sentence.text[reading.start : reading.end]
    return Short(n, text, best.sentence.source, at, at + len(text), round(reading.span_score, 4))


def reader_input(candidate: Candidate) -> tuple[str, str, str]:
    """What the reader reads of a candidate: its document's title, the sentence, the sentence before it."""
    return title(candidate.sentence.source), candidate.sentence.text, candidate.before


def _new_paragraph(chunk: Span, before: Span, sentence: Span) -> bool:
    """Whether a blank line parts `sentence` from the one `before` it (as far as `chunk` shows the gap)."""
    if not chunk.start <= before.end <= sentence.start <= chunk.end:
        return False
    gap = chunk.text[before.end - chunk.start : sentence.start - chunk.start]
    return gap.count("\n") >= 2


def _near(sentence: Span, quote: Quote, *, gap: int = NEAR_CHARS) -> bool:
    """The sentence is (part of) a quote, or starts within `gap` characters after it (gap 0: overlaps it).

    Example: quote ("a.txt", 0, 10); sentence a.txt 11-30 -> True (gap 0: False); a.txt 40-60 -> False
    """
    source, start, end = quote
    return sentence.source == source and sentence.start < end + gap and sentence.end > start


def rerank(hits: Sequence[Hit], candidates: Sequence[Candidate]) -> list[Hit]:
    """Order passages by their best sentence's rank, then by fused rank (stable): sentence evidence is sharper than
    passage similarity (docs/how-it-answers.md)."""
    best: dict[int, float] = {}
    for c in candidates:
        best[c.chunk] = max(best.get(c.chunk, -1e9), c.score)
    return sorted(hits, key=lambda h: -best.get(h.chunk, -1e9))
