"""The default answerer without an LLM: score the sentences of retrieved passages and pick the best.

How the numbers were chosen (calibration, 2026-11, on data/squad2-dev-sample.json with each paragraph a document,
the seed article, and the 50 off-topic questions in data/off_topic.txt; see benchmarks/squad.py to re-run):

- A sentence's score is `(0.5 * cosine(question, sentence) + lexical + 0.5 * cosine(question, passage)) / 2`,
  where `lexical` is the IDF-weighted share of the question's content words (stemmed) found in the sentence.
  A grid search over the weights put the answer inside the top sentence for 86% of answerable questions
  (cosine alone: 78%); the chosen weights sit in the middle of the flat optimum rather than on its edge.
- A second sentence is added when it scores at least 0.9 of the first: +3 points of answer recall, +3 words median.
- Answer type: for "when"/"what year" questions a sentence without a date, and for "how many/much" questions one
  without a number, ranks `TYPE_PENALTY` lower (+0.5 points on SQuAD; it lets "When will it be fully ready?"
  find the sentence with "2027"). The penalty orders sentences only; refusal looks at the untyped score.
- Refusal: the best sentence's score. With the default (late-chunked) sentence vectors, off-topic questions scored
  at most 0.31 on the SQuAD paragraphs ("Why is the sky blue?" against articles about Sky UK) and 0.23 on the seed;
  answerable SQuAD questions 0.37 or more (1st percentile), so `min_score = 0.34` sits in the gap.
- SQuAD 2.0's unanswerable questions (same topic, a plausible distractor) overlap answerable ones almost fully.
  `strict` raises the bar to `strict_min_score = 0.46`, under the 10th percentile of answerable questions (9.3% of
  them refused), which refuses 22% of unanswerable ones. A logistic model over every cheap feature tried (sentence
  and passage cosine, lexical coverage, missing rare words) did no better (23%), so reaching 50% needs a reader
  model (cross-encoder or QA head), which this offline setup does not ship.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from index.chunking import Span
from index.lexical import Vocabulary, terms

__all__ = ["Candidate", "Vocabulary", "expected_type", "select", "terms"]

SECOND_SENTENCE_MARGIN = 0.5

_DATE = re.compile(
    r"\b(1\d{3}|20\d{2})s?\b|\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\b|\b(centur(y|ies)|decades?|ago)\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred|thousand|million|"
    r"billion|dozen|several|few)\b",
    re.IGNORECASE,
)
_WANTS_DATE = re.compile(r"^(and |so |but )?when\b|\b(what|which) (year|century|decade|date)\b|\bsince when\b")
_WILL = re.compile(r"\b(will|shall|expected|scheduled|due|going to|set to|plans? to|intends? to)\b", re.IGNORECASE)
_WANTS_NUMBER = re.compile(r"\bhow (many|much|long|old|far|large|big)\b")
_WANTS_NAME = re.compile(
    r"\b(who|whom|whose)\b|^(and |so |but )?where\b|\b(what|which) (country|city|state|team|company)\b"
)
_NOT_NAMES = {"no", "the", "mr", "mrs", "ms", "dr", "st", "he", "she", "it", "they", "his", "her", "its", "i"}
_NAME = re.compile(r"(?<=[\s(\"'])[A-Z][\w'’-]+")  # a capitalised word that does not start the sentence


def expected_type(question: str) -> Callable[[str], bool] | None:
    """A check that a sentence holds the kind of answer the question asks for (None: no expectation).

    "When" wants a date, "how many" a number, "who" and "where" a name the question does not already say.
    Example: expected_type("When will it be ready?")("Ready in 2027.") -> True; expected_type("Why?") -> None
    """
    q = question.lower().strip()
    if _WANTS_DATE.search(q) and _WILL.search(q):  # "when will ...": a date that is still ahead
        return lambda text: _DATE.search(text) is not None and _WILL.search(text) is not None
    if _WANTS_DATE.search(q):
        return lambda text: _DATE.search(text) is not None
    if _WANTS_NUMBER.search(q):
        return lambda text: _NUMBER.search(text) is not None
    if _WANTS_NAME.search(q):
        said = set(re.findall(r"\w+", q)) | _NOT_NAMES
        return lambda text: any(m.group().lower().strip("'’") not in said for m in _NAME.finditer(text))
    return None


# How a sentence is ranked: a weighted sum of Candidate.features(), fitted by benchmarks/train_scorer.py (first eight)
# and benchmarks/tune_followups.py (the two for follow-ups); numbers in the module docstring.
WEIGHTS: dict[str, float] = {
    "cosine": 8.443,
    "lexical": 2.575,
    "passage": 2.247,
    "passage_lexical": 5.263,
    "dense": 0.904,
    "window": 2.576,
    "lead": 0.454,
    "typed": 3.134,
    "context": 4.0,
    "same_doc": 1.0,
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
    window: float = 0.0  # lexical, over the sentence and the one before it (a name said once, then "he")
    lead: bool = False  # the first sentence of its document
    context: float = 0.0  # follow-ups: cosine(earlier questions + question, sentence)
    same_doc: bool = False  # follow-ups: in the document the previous answer cited

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
            "context": self.context,
            "same_doc": float(self.same_doc),
        }

    @property
    def score(self) -> float:
        """How likely the sentence answers the question, on a log-odds scale: orders the sentences."""
        return sum(WEIGHTS[k] * v for k, v in self.features().items())

    @property
    def evidence(self) -> float:
        """How much the sentence and its passage say about the question, in about [-0.3, 1]: the refusal signal.

        The mean of sentence cosine (for a follow-up, the better of it and the conversation's), lexical coverage
        and passage cosine.
        """
        return (max(self.cosine, self.context) + self.lexical + self.passage_cosine) / 3


def select(candidates: Sequence[Candidate], *, max_sentences: int) -> list[Candidate]:
    """The best-scored sentence, plus runners-up within SECOND_SENTENCE_MARGIN of it (distinct texts: a sentence
    that two passages or two files share is quoted once)."""
    best: dict[str, Candidate] = {}
    for c in candidates:
        key = c.sentence.text
        if key not in best or best[key].score < c.score:
            best[key] = c
    ranked = sorted(best.values(), key=lambda c: (-c.score, c.sentence.source, c.sentence.start))
    if not ranked:
        return []
    bar = ranked[0].score - SECOND_SENTENCE_MARGIN
    return [ranked[0]] + [c for c in ranked[1:max_sentences] if c.score >= bar]
