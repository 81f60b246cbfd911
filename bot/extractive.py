"""The default answerer without an LLM: score the sentences of retrieved passages and pick the best.

How the numbers were chosen (2026-11-26; calibration sets in ../shared/data: the SQuAD 2.0 sample (418 questions,
half unanswerable), TyDi QA English (220) and Natural Questions (263), each paragraph a document; CoQA (6 dialogues,
106 turns) for follow-ups; data/off_topic.txt (50) for refusal). Re-run: benchmarks/train_scorer.py, then
benchmarks/tune_followups.py; benchmarks/quality.py reports the result beside plain llama-index and BM25.

- Ranking: `Candidate.score` is a weighted sum of evidence features (sentence cosine, lexical coverage of the
  question's words, passage cosine, passage coverage, passage's dense rank, coverage over the sentence and the one
  before it in its paragraph (a blank line ends the window: tests/questions/library "how long to cross the panama
  canal"; no calibration answer changed, their documents being one paragraph each), first sentence of its
  document, answer type present, coverage of the question by the document's title: bot/titles.py). The weights are
  a conditional logit (softmax over one question's sentences, weights kept >= 0: no evidence counts against a
  sentence; passage cosine then gets 0, as the title and dense rank carry it) fitted on the
  answerable questions of SQuAD, TyDi and NQ, SQuAD counted 3 times: with equal counts the fit gives up SQuAD answers
  for TyDi ones, because SQuAD's questions reuse the paragraph's words (overlap 0.74) and the others' don't (0.67,
  0.54). Cross-validated in 5 folds by paragraph, the top sentence holds the answer for SQuAD 0.868 / TyDi 0.768 / NQ
  0.665 of questions; without the title feature 0.868 / 0.750 / 0.639, with the earlier hand-set weights 0.868 / 0.705
  / 0.601. Fitted on two sets and tested on the third it is worse on SQuAD (0.62): the sets differ, so all three kinds
  are in the fit. Tried and dropped (5-fold, no set gained beyond one or two questions): new words in the sentence,
  its length, names or numbers the question lacks, rank and gap features within the question's sentences, the
  neighbours' cosines, soft word matching through MiniLM's input word vectors. Refitted after late chunking moved to
  non-overlapping windows (index/vectors.py): 5-fold 0.877 / 0.768 / 0.665, passage cosine 0.3, the others within
  0.35 of the weights before.
- Answer type: "when" wants a date ("when will" one ahead: will, expected, due ...), "how many" a number, "who" and
  "where" a capitalised name the question does not already say. Its weight (3.2) is fitted with the rest. A month or
  a weekday is no name (TyDi 0.850 -> 0.855: "Operation Anaconda took place in early March 2002" is not where).
  "How tall / high / deep / wide / heavy / fast" want a number too (no calibration answer changes; a measure since
  2026-11-27, below). "How many / much"
  wants a count or an amount, which a year alone is not (NQ 0.768 -> 0.772: "how many episodes of touching evil are
  there" was answered "... began airing in 1997"; the other sets unchanged), nor a measure in a unit the question
  does not say ("26 metres", "eight to ten hours" for "How many ships use it each year?"; "8,850 km" still answers
  "how many kilometers ..."): no calibration answer changed (NQ lost "how many kilometers of great wall of china"
  until the units' spellings were matched), tests/questions/library's Panama Canal follow-up now right. Checked on
  data/dialogues.json (conversations written for the project, read while developing; 2026-11-27): an early year is a
  date ("in 997", "AD 79"), a question ending in "name(s)" wants a name ("What are their names?" was answered "The
  couple registered the name ..."), "how old" an age (a number that is not a year alone), "how long" an amount with
  its unit or a count of years ("eight to ten hours", "3.5billion years"; not "until 1999"): TyDi hit@1 0.973 ->
  0.977 and asked in turn 0.864 -> 0.868, the other sets' answers unchanged. "Who" may be answered by relation or
  role ("her uncle", "the teacher": `_PEOPLE`) as well as by name: "Who got her interested in math?" - "As a girl
  she was taught mathematics by her uncle": data/dialogues.json 0.608 -> 0.619, the other sets unchanged. "How
  tall / high / deep / wide / far / heavy" want a measure, an amount with its unit ("At a depth of 28 meters"; not
  "350 years ago"): data/dialogues.json 0.619 -> 0.639, data/dialogues_unseen.json (its first four stories) 0.522 -> 0.543, the other sets
  unchanged.
- Coverage counts the words a question is about, not those that say what kind of answer it wants (`topic_terms`:
  "how old", "how long", "what day", "which year", "his name" ...): "What day was it?" after "Was he dismissed on a
  Monday?" had been answered from another story's "Some days you run out of ideas", "How old is she?" from "old
  Martha came in", "What was his name?" (Ada's father) from "... was named Ada in her honour". "Under what name?"
  keeps its "name" (dropped, it lost "... who named it Nidaros").
  CoQA follow-up cite-hit 0.662 -> 0.675 (hit@1 0.934 -> 0.953), data/dialogues.json 0.567 -> 0.577 (short ones
  0.645 -> 0.677), data/dialogues_unseen.json (its first four stories) 0.457 -> 0.522; SQuAD, TyDi and NQ answers unchanged, off-topic
  questions after a turn refused 98.0% -> 98.5%.
- A second sentence is quoted when it scores within SECOND_SENTENCE_MARGIN of the first. Answer contains the gold
  answer, at median words, by benchmarks/quality.py (SQuAD / TyDi / NQ), before the title feature: margin 0.5 gives
  0.868 @ 27, 0.800 @ 38.5, 0.684 @ 29; 0.75 gives 0.877 @ 29, 0.818 @ 40, 0.707 @ 32; 1.0 gives 0.877 @ 30, 0.827 @
  42.5, 0.722 @ 33. With it: 0.75 gives 0.877 @ 29, 0.827 @ 40, 0.749 @ 32; 1.0 gives 0.877 @ 30, 0.832 @ 41.5,
  0.764 @ 33. 0.75 keeps the words where they were. With the windowed vectors and the refit, 0.75 gives 0.882 @ 29,
  0.836 @ 39, 0.745 @ 32. Checked again with "who" answers led by the sentence that names their "he" or "she"
  (below): 0.6 gives 0.887 @ 28, 0.841 @ 38, 0.749 @ 30; 0.7 gives 0.887 @ 29, 0.841 @ 39, 0.760 @ 31; 0.75 gives
  0.887 @ 29, 0.850 @ 39, 0.768 @ 32 and stays.
- A question that asks who or what (not when, where, why or how) whose best sentence has a pronoun for its subject
  ("Since 2009, he has been the head coach of ...", "Overall, she is generally considered the largest ship ever
  built.") is answered with the sentence before it that says who or what that is (the nearest one that does not
  itself start with a pronoun: bot/engine.py `_named_first`) when it names someone or something the question does
  not, then the quotes as selected. The answer is that name:
  for "who" questions NQ 0.738 -> 0.768 (8 questions: "who is the coach of university of kentucky basketball", "who
  does marge's voice on the simpsons"), TyDi 0.845 -> 0.850; with "what" and "which" too TyDi 0.855 -> 0.868 ("What
  is the largest ship ever built?", "Which museum has the largest collection of African art?"); SQuAD and CoQA
  unchanged, NQ's median answer 31 -> 32 words. For every question: CoQA 0.649 -> 0.636, the rest the same; with the
  naming sentence in place of the runner-up instead of before both, SQuAD 0.887 -> 0.882. Without the new-name
  check the same numbers, with 40 answers changed instead of 31 ("What kind of arches does Norman architecture
  have?" was led by "Norman architecture typically stands out ...").
- Follow-ups (questions that lean on the conversation: bot/conversation.py): `context` (cosine to the previous turn
  plus the question), `same_doc` (the previous answer's document) and `near` (a sentence the previous answer quoted,
  or the one right after it), chosen on CoQA with its own answers as history (benchmarks/tune_followups.py, grid
  context 3/4/6 x same_doc 0-3 x near 0.5-3). A follow-up's passage and title coverage count the previous question's
  words too ("Where is it located?" after "What has a population of over 300,000?" stays with Bonn rather than
  "Toronto is located in ..."): follow-up cite-hit 0.584 -> 0.649, short follow-ups 0.474 -> 0.632, leave-one-
  dialogue-out 0.555 -> 0.582. The grid's best, context 4 / same_doc 2 or 3 / near 1, sits on a plateau (0.61-0.65 for
  context 3-4, same_doc 1-3, near 1-2); same_doc 3 because tests/questions/library's "Where is it located?" after a
  question about Bonn needs it (2 leaves it for "Toronto is located in ..."). Tried and dropped: the previous
  question's words in the sentence's own coverage too (0.545: it re-quotes the previous answer), the sentences 1-3
  after the quote only, avoiding the quoted sentence. With the windowed vectors and the refit, the grid's best is
  context 4 / same_doc 2 or 3 / near 0.5: cite-hit 0.623, short 0.526 (near 1: 0.610, 0.421), leave-one-dialogue-out
  0.556; same_doc stays 3. Chosen again on CoQA and data/dialogues.json together (2026-11-27, each set counting the
  same): the best point is still context 4 / same_doc 3 / near 0.5 (CoQA 0.675, dialogues 0.639, mean 0.657;
  leave-one-dialogue-out over the 14 dialogues 0.601); near 2 would give dialogues 0.660 and CoQA 0.584-0.597.
  Tried and dropped on data/dialogues.json (2026-11-27): a passage the previous answer
  quoted scored by its best cosine to either query (the follow-up's or the conversation's) rather than the
  follow-up's alone (one more turn answered, but off-topic questions after a turn 98.5% -> 97.5% refused: "How long
  does it take to boil an egg?" rides on its "it"); a question with two or more words the documents never use
  made a new one whatever it refers to (CoQA 0.662 -> 0.571: "Is it in the northernmost zone?" is a follow-up).
- Refusal looks at `Candidate.evidence`, the mean of sentence cosine, lexical coverage (of the sentence and its
  document's title) and passage cosine (a follow-up's sentence cosine may be its conversation's), not at the fitted
  score, whose scale depends on the question. The 50 off-topic questions score at most 0.340 on the SQuAD index
  ("What language is spoken in Brazil?" against the Norman language, since irregular forms share a stem: spoken,
  speaking; then 0.332, "Why is the sky blue?" against Sky UK); `min_score = 0.345` refuses all of them and 1.0% of
  answerable SQuAD, 0.9% of TyDi and 1.1% of NQ questions (1.5% of SQuAD before auxiliaries became stop words:
  index/lexical.py; 1.4% of TyDi before misspelled words were respelled: bot/spelling.py; 0.35: SQuAD 2.0%; before
  the irregular forms 0.34 gave 1.5 / 1.4 / 0.8%; 2.7% and 4.6% when the title did not count: "where does the
  grapes of wrath take place" found its document but no sentence says the title).
- A question with no content words of its own ("When?", "Why not?", "How old is she?") has no coverage to count:
  its evidence is the mean of the other two (for a follow-up, the conversation's cosine and the passage's). With
  coverage counted as 0 such follow-ups averaged about 0.28 and were refused ("When?" after "Who founded it?" -
  "Trondheim was founded in 997 by ..."): data/dialogues.json follow-up cite-hit 0.536 -> 0.567, span turns refused
  18.1% -> 14.3%; CoQA, the other sets and the off-topic ones (none is wordless) unchanged.
- A sentence whose cosine to the question (or, for a follow-up, to the conversation) is below COSINE_FLOOR = 0.15
  has only that cosine for evidence, however many of the question's words it shares: "How do I tie a tie?" found "...
  closer ties of blood through the marriage ..." at cosine 0.04, lexical coverage 1.0 and scored 0.347, above
  `min_score`. The lowest cosine of any answered answerable question is 0.30 on SQuAD, 0.27 on TyDi and 0.20 on NQ;
  no answer on any set changed (CoQA turns asked without their history, the baseline: five short ones refused, such as
  "what year ?"). data/off_topic_unseen.txt (100 questions written after the threshold was set, on the
  SQuAD index; the tie question is one of them) is refused 98% alone (97% before), 95.3% after a turn (with
  `refers_back` no longer reading "One" of "One Hundred Years of Solitude" as a reference: bot/conversation.py); the
  two still answered share a rare name with the documents ("Who founded Microsoft?", "How does Wi-Fi work?").
- SQuAD 2.0's unanswerable questions (same topic, a plausible distractor) overlap answerable ones almost fully.
  `strict_min_score = 0.45` refuses 16.4% of them at 8.3% of answerable ones (16.8% before the demonyms of
  index/lexical.py; 16.4% at 7.8% before auxiliaries
  became stop words, 18.7% at 8.3% before misspelled words were respelled, some of them refused for their typo;
  19.6% at 8.8% before the irregular forms). No cheap
  feature separates them better; that needs a reader model (cross-encoder or QA head), which no package installable
  here ships.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cached_property

from index.chunking import Span
from index.lexical import Vocabulary, terms

__all__ = [
    "Candidate",
    "Vocabulary",
    "asks_what",
    "expected_type",
    "names_someone_new",
    "select",
    "starts_with_pronoun",
    "terms",
    "topic_terms",
]

SECOND_SENTENCE_MARGIN = 0.75
COSINE_FLOOR = 0.15

_YEAR = re.compile(r"\b(1\d{3}|20\d{2})s?\b")
# an early year: "in 997", "since 843", "AD 79", "44 BC" (not "in 120 days": a plural word after it is a count's)
_EARLY_YEAR = (
    r"\b(in|since|until|by|from|around) \d{3}\b(?! (?!was\b|has\b|is\b)[a-z]+s\b)"
    r"|\bAD \d{1,4}\b|\b\d{1,4} (BC|BCE|AD|CE)\b"
)
_DATE = re.compile(
    rf"{_YEAR.pattern}|{_EARLY_YEAR}|\b(January|February|March|April|May|June|July|August|September|October|November|"
    r"December)\b|\b(centur(y|ies)|decades?|ago)\b",
    re.IGNORECASE,
)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DAY = re.compile(rf"\b\d{{1,2}}(st|nd|rd|th)? ({_MONTHS})\b|\b({_MONTHS}) \d{{1,2}}(st|nd|rd|th)?\b")  # "14 March"
_NUMBER = re.compile(
    r"\d|\b(one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve|twenty|hundred|thousand|million|"
    r"billion|dozen|several|few)\b",
    re.IGNORECASE,
)
_WANTS_DATE = re.compile(r"^(and |so |but )?when\b|\b(what|which) (year|century|decade|date)\b|\bsince when\b")
_WILL = re.compile(r"\b(will|shall|expected|scheduled|due|going to|set to|plans? to|intends? to)\b", re.IGNORECASE)
_WANTS_COUNT = re.compile(r"\bhow (many|much)\b")
_UNITS = {u: forms.split()[0] for forms in (  # each unit's spellings, the first one standing for all
    "metres meters metre meter m", "kilometres kilometers kilometre kilometer km", "miles mile mi", "feet foot ft",
    "inches inch", "centimetres centimeters cm", "millimetres millimeters mm", "kilograms kilogram kg",
    "tonnes tons tonne ton", "pounds pound lb", "percent %", "degrees degree °c °f", "hours hour", "minutes minute",
    "seconds second", "days day", "weeks week", "months month",
) for u in forms.split()}  # fmt: skip
_AMOUNT = r"(?:\d[\d,.]*|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|twelve|twenty|hundred|thousand|million))"
_UNIT = "|".join(map(re.escape, sorted(_UNITS, key=len, reverse=True)))
_MEASURE = re.compile(  # "26 metres", "eight to ten hours": an amount of something the question may not ask for
    rf"({_AMOUNT}(?:\s*(?:to|or|and|-|–)\s*{_AMOUNT})?)\s*({_UNIT})(?!\w)", re.IGNORECASE
)
# "30 years", "3.5billion years": a time too long for _UNITS ("how many years" wants it as a count)
_YEARS = re.compile(
    rf"{_AMOUNT}\s*(?:(?:million|billion|thousand|hundred)\s*)?(?:years?|decades?|centur(?:y|ies))\b", re.IGNORECASE
)
_WANTS_NUMBER = re.compile(r"\bhow (many|much|long|old|far|large|big|tall|high|deep|wide|heavy|fast)\b")
_WANTS_NAME = re.compile(
    r"\b(who|whom|whose)\b|^(and |so |but )?where\b|\b(what|which) (country|city|state|team|company)\b"
    r"|\bnames?\W*$"  # "What's her name?", "What are their names?"
)
_WANTS_PERSON = re.compile(r"\b(who|whom)\b")
# Someone a "who" question may be answered with by relation or role rather than by name ("her uncle", "the teacher")
_PEOPLE = frozenset(
    "mother father parents brother sister son daughter uncle aunt cousin grandfather grandmother grandpa grandma wife "
    "husband friend friends neighbour neighbor teacher boss mom dad nephew niece".split()
)
_NOT_NAMES = {"no", "the", "mr", "mrs", "ms", "dr", "st", "he", "she", "it", "they", "his", "her", "its", "i"} | set(
    "january february march april may june july august september october november december monday tuesday wednesday "
    "thursday friday saturday sunday".split()
)  # a month or a day names no one and no place
_NAME = re.compile(r"(?<=[\s(\"'])[A-Z][\w'’-]+")  # a capitalised word that does not start the sentence


def expected_type(question: str) -> Callable[[str], bool] | None:
    """A check that a sentence holds the kind of answer the question asks for (None: no expectation).

    "When" wants a date, "how many" a count (not a year), "how tall" a number, "who" and "where" a name the question
    does not already say.
    Example: expected_type("When will it be ready?")("Ready in 2027.") -> True; expected_type("Why?") -> None
    """
    q = question.lower().strip()
    if _WANTS_DATE.search(q) and _WILL.search(q):  # "when will ...": a date that is still ahead
        return lambda text: _DATE.search(text) is not None and _WILL.search(text) is not None
    if _WANTS_DATE.search(q):
        return lambda text: _DATE.search(text) is not None
    if _WANTS_COUNT.search(q):  # a count or an amount: a year alone is neither, nor a measure the question lacks
        units = {_UNITS.get(w, w) for w in re.findall(r"\w+", q)}

        def counts(text: str) -> bool:
            rest = _MEASURE.sub(lambda m: m.group() if _UNITS.get(m.group(2).lower()) in units else " ", text)
            return _NUMBER.search(_YEAR.sub(" ", _DAY.sub(" ", rest))) is not None

        return counts
    if re.search(r"\bhow old\b", q):  # an age: a year alone is none
        return lambda text: _NUMBER.search(_YEAR.sub(" ", _DAY.sub(" ", text))) is not None
    if re.search(r"\bhow long\b", q):  # a time or a length: an amount with its unit ("eight to ten hours")
        return lambda text: _MEASURE.search(text) is not None or _YEARS.search(text) is not None
    if re.search(r"\bhow (tall|high|deep|wide|far|heavy)\b", q):  # a measure: an amount with its unit
        return lambda text: _MEASURE.search(text) is not None
    if _WANTS_NUMBER.search(q):
        return lambda text: _NUMBER.search(text) is not None
    if _WANTS_NAME.search(q):
        named = names_someone_new(question)
        if not _WANTS_PERSON.search(q):
            return named
        said = set(re.findall(r"\w+", q))
        return lambda text: named(text) or any(w in _PEOPLE and w not in said for w in re.findall(r"\w+", text.lower()))
    return None


# The words that say what kind of answer is wanted ("how old", "what day"), not what it is about: a sentence that
# says "old" or "days" is no likelier to hold an age or a date
_ASKED_KIND = re.compile(
    r"\bhow (old|long|many|much|far|big|large|tall|high|deep|wide|heavy|fast|often|soon)\b"
    r"|\b(what|which) (day|year|time|date|month|century|decade|kind|type|sort)\b"
    r"|\b(his|her|their|its|\w+'s) ((first|last|full|real) )?names?(?=\W*$)",
    re.IGNORECASE,
)


def topic_terms(question: str) -> set[str]:
    """The question's content words (index/lexical.py terms) without those that ask for a kind of answer.

    Example: topic_terms("How old is Bao?") -> {"bao"}; topic_terms("What day was it?") -> set()
    """
    return terms(_ASKED_KIND.sub(" ", question))


def names_someone_new(question: str) -> Callable[[str], bool]:
    """A check that a sentence names someone or something (a capitalised word past its first) the question does not.

    Example: names_someone_new("Who made Ralph earl?")("It shows the attitudes of Edward.") -> True
    """
    said = set(re.findall(r"\w+", question.lower())) | _NOT_NAMES
    return lambda text: any(m.group().lower().strip("'’") not in said for m in _NAME.finditer(text))


_ASKS_WHAT = re.compile(r"\b(who|whom|whose|which|what)\b", re.IGNORECASE)
_ASKS_HOW = re.compile(r"[\W_]*(when|where|why|how)\b", re.IGNORECASE)
_PRONOUNS = frozenset("he she his her they their it its".split())
# Words that may open a sentence before its subject pronoun: "In 1843 she ...", "Since 2009, he ..."
_OPENERS = frozenset("in on at since after before during from by when while later then today now also however and but "
                     "so until for with as following meanwhile once".split())  # fmt: skip
_OPENING_WORDS = 5


def asks_what(question: str) -> bool:
    """Whether the question asks for someone or something by name, not when, where, why or how.

    Example: "who plays colin" -> True; "What is the largest ship ever built?" -> True; "Where is Bonn?" -> False
    """
    return _ASKS_WHAT.search(question) is not None and _ASKS_HOW.match(question) is None


def starts_with_pronoun(sentence: str) -> bool:
    """Whether a pronoun, not a name, is the sentence's subject: its first word, or after an opening phrase.

    Example: "He is best known for ..." -> True; "In 1843 she translated ..." -> True; "Ada wrote it." -> False;
    "The book won its prize." -> False
    """
    for i, word in enumerate(re.findall(r"\w+", sentence)[:_OPENING_WORDS]):
        low = word.lower()
        if low in _PRONOUNS:
            return True
        if low in {"the", "a", "an"} or (i == 0 and low not in _OPENERS) or (i > 0 and word[0].isupper()):
            return False
    return False


# How a sentence is ranked: a weighted sum of Candidate.features(), fitted by benchmarks/train_scorer.py (first eight)
# and benchmarks/tune_followups.py (the two for follow-ups); numbers in the module docstring.
WEIGHTS: dict[str, float] = {
    "cosine": 8.574,
    "lexical": 2.607,
    "passage": 0.299,
    "passage_lexical": 4.93,
    "dense": 1.035,
    "window": 2.472,
    "lead": 0.421,
    "title": 10.584,
    "typed": 3.247,
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
    title: float = 0.0  # lexical, over its document's title (bot/titles.py)
    titled: float = 0.0  # lexical, over the sentence and its document's title: the refusal's word evidence
    context: float = 0.0  # follow-ups: cosine(earlier questions + question, sentence)
    same_doc: bool = False  # follow-ups: in the document the previous answer cited
    near: bool = False  # follow-ups: a sentence the previous answer quoted, or the one right after it
    row: int = -1  # the sentence's row in the index
    wordless: bool = False  # the question has no content words ("When?", "Why not?"): no coverage to speak of

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
