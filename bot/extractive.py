"""The default answerer without an LLM: score the sentences of retrieved passages and pick the best.

- `Candidate.score` ranks a question's sentences: a weighted sum of evidence features (WEIGHTS: sentence and passage
  cosine, lexical coverage of the question's topic words over the sentence, its window, passage and title, the
  passage's dense rank, first sentence, answer type present; for follow-ups, the conversation's cosine, its
  document and quotes), fitted as a conditional logit on the dev split of the training files
  (benchmarks/train_scorer.py; the follow-up weights checked by benchmarks/tune_reader.py). The reader (bot/reader.py)
  re-orders the best of them (bot/engine.py `Engine.choose`).
- `select` gives the best sentences; with its runner-up within SECOND_SENTENCE_MARGIN it answers "Tell me more".
- `Candidate.evidence` is the refusal signal: the mean of sentence cosine, lexical coverage (sentence and title) and
  passage cosine; a question with no content words ("When?") leaves coverage out; below COSINE_FLOOR only the cosine
  counts (a shared word alone is no evidence: "How do I tie a tie?" - "... closer ties of blood").

How each constant was chosen, and what it measured: docs/how-it-answers.md and docs/quality.md (history: git log).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

from index.documents.chunking import Span
from index.search.lexical import Vocabulary, terms

__all__ = ["Candidate", "Vocabulary", "select", "terms"]

SECOND_SENTENCE_MARGIN = 0.85
COSINE_FLOOR = 0.15

# How a sentence is ranked: a weighted sum of Candidate.features(), fitted on the dev split of the training files by
# benchmarks/train_scorer.py (the first nine) and checked by benchmarks/tune_reader.py (the three for follow-ups).
WEIGHTS: dict[str, float] = {
    "cosine": 10.865,
    "lexical": 1.321,
    "passage": 0.263,
    "passage_lexical": 4.71,
    "dense": 0.821,
    "window": 2.889,
    "lead": 0.89,
    "title": 10.032,
    "typed": 3.661,
    "context": 4.0,
    "same_doc": 3.0,
    "near": 0.5,
}


@dataclass(frozen=True)
class Candidate:
    """A sentence from a retrieved passage with the evidence for it."""

    sentence: Span
    cosine: float  # cosine(question, sentence)
    lexical: float  # IDF-weighted share of the question's words in the sentence
    passage_cosine: float  # cosine(question, passage)
    passage_lexical: float = 0.0  # lexical, over the whole passage
    dense: float = 0.0  # 1 / (1 + the passage's rank by cosine to the question)
    chunk: int = -1
    typed: bool = True  # the sentence has the kind of answer the question asks for (or it asks for none)
    window: float = 0.0  # lexical, over the sentence and the one before it in its paragraph (a name, then "he")
    lead: bool = False  # the first sentence of its document
    title: float = 0.0  # lexical, over its document's title (bot/question/titles.py)
    titled: float = 0.0  # lexical, over the sentence and its document's title: the refusal's word evidence
    context: float = 0.0  # follow-ups: cosine(earlier questions + question, sentence)
    same_doc: bool = False  # follow-ups: in the document the previous answer cited
    near: bool = False  # follow-ups: a sentence the previous answer quoted, or the one right after it
    row: int = -1  # the sentence's row in the index
    wordless: bool = False  # the question has no content words ("When?", "Why not?"): no coverage to speak of
    before: str = ""  # the sentence before it in its paragraph, which the reader reads in front of it

    def features(self) -> dict[str, float]:
        """The evidence as numbers, keyed as in WEIGHTS."""
        return {
            "cosine": self.cosine,
            "lexical": self.lexical,
            "passage": self.passage_cosine,
            "passage_lexical": self.passage_lexical,
            "dense": self.dense,
            "typed": float(self.typed),
            "window": self.window,
            "lead": float(self.lead),
            "title": self.title,
            "context": self.context,
            "same_doc": float(self.same_doc),
            "near": float(self.near),
        }

    @cached_property
    def score(self) -> float:
        """How likely the sentence answers the question, on a log-odds scale: orders the sentences."""
        return sum(WEIGHTS[k] * v for k, v in self.features().items())

    @property
    def evidence(self) -> float:
        """How much the sentence and its passage say about the question, in about [-0.3, 1]: the refusal signal.

        The mean of sentence cosine (for a follow-up, the better of it and the conversation's), lexical coverage
        (of the sentence and its document's title; left out when the question has no content words) and passage
        cosine; only the cosine when that is below COSINE_FLOOR (a shared word alone is no evidence: "How do I tie
        a tie?" - "... closer ties of blood").
        """
        cosine = max(self.cosine, self.context)
        if cosine < COSINE_FLOOR:
            return cosine
        if self.wordless:
            return (cosine + self.passage_cosine) / 2
        return (cosine + max(self.lexical, self.titled) + self.passage_cosine) / 3


def select(
    candidates: Sequence[Candidate], *, max_sentences: int, margin: float = SECOND_SENTENCE_MARGIN
) -> list[Candidate]:
    """The best-scored sentence, plus runners-up within `margin` of it (distinct texts: a sentence that two
    passages or two files share is quoted once)."""
    best: dict[str, Candidate] = {}
    for c in candidates:
        key = c.sentence.text
        if key not in best or best[key].score < c.score:
            best[key] = c
    ranked = sorted(best.values(), key=lambda c: (-c.score, c.sentence.source, c.sentence.start))
    if not ranked:
        return []
    bar = ranked[0].score - margin
    return [ranked[0]] + [c for c in ranked[1:max_sentences] if c.score >= bar]
