"""What kind of answer a question asks for, and which of its words say what it is about.

`expected_type` checks a sentence for the kind of answer asked ("When?" a date); a sentence without it loses the
fitted `typed` weight (bot/extractive.py), it is not excluded. `topic_terms` are the words whose coverage counts.
`asks_what` and `starts_with_pronoun` decide when an answer is led by the sentence that names its "he" or "she"
(bot/engine.py).

- "when" wants a date ("when will" one ahead), an early year counting ("in 997"); "how many / much" a count or an
  amount in a unit the question says, not a year alone; "how tall / high / deep / wide / far / heavy" a measure with
  its unit; "how old" an age; "how long" an amount with its unit or a count of years; "who" and "where" a capitalised
  name the question does not already say (a month or weekday is none), and "who" also a relation or role ("her
  uncle": `_PEOPLE`); a question ending in "name(s)" a name.
- Coverage counts the words a question is about, not those that say what kind of answer it wants (`topic_terms`: "how
  old", "how long", "what day", "his name" ...): "How old is she?" is not answered from "old Martha came in".

What each rule measured on the calibration sets and data/dialogues.json: git log of this file.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from index.search.lexical import terms

__all__ = ["asks_what", "expected_type", "names_someone_new", "starts_with_pronoun", "topic_terms"]

_YEAR = re.compile(r"\b(1\d{3}|20\d{2})s?\b")
# an early year: "in 997", "since 843", "AD 79", "44 BC" (not "in 120 days": a plural word after it is a count's)
_EARLY_YEAR = (
    r"\b(in|since|until|by|from|around) \d{3}\b(?! (?!was\b|has\b|is\b)[a-z]+s\b)"
    r"|\bAD \d{1,4}\b|\b\d{1,4} (BC|BCE|AD|CE)\b"
)
_MONTHS = "January|February|March|April|May|June|July|August|September|October|November|December"
_DATE = re.compile(rf"{_YEAR.pattern}|{_EARLY_YEAR}|\b({_MONTHS})\b|\b(centur(y|ies)|decades?|ago)\b", re.IGNORECASE)
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
_WANTS_AGE = re.compile(r"\bhow old\b")  # an age: a year alone is none
_WANTS_DURATION = re.compile(r"\bhow long\b")
_WANTS_MEASURE = re.compile(r"\bhow (tall|high|deep|wide|far|heavy)\b")
_WANTS_NUMBER = re.compile(r"\bhow (large|big|fast)\b")
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

    "When" wants a date, "how many" a count (not a year), "how old" an age, "how long" or "how deep" an amount with
    its unit, "how big" a number, "who" and "where" a name the question does not already say ("who" also a relation:
    "her uncle").
    Example: expected_type("When will it be ready?")("Ready in 2027.") -> True; expected_type("Why?") -> None
    """
    q = question.lower().strip()
    if _WANTS_DATE.search(q) and _WILL.search(q):  # "when will ...": a date that is still ahead
        return lambda text: _DATE.search(text) is not None and _WILL.search(text) is not None
    if _WANTS_DATE.search(q):
        return lambda text: _DATE.search(text) is not None
    if _WANTS_COUNT.search(q):  # a count or an amount: a year alone is neither, nor a measure the question lacks
        units = {_UNITS.get(w, w) for w in re.findall(r"\w+", q)}

        def counts(text: str) -> bool:  # measures in a unit the question does not say are dropped first
            return _counts(_MEASURE.sub(lambda m: m.group() if _UNITS.get(m.group(2).lower()) in units else " ", text))

        return counts
    if _WANTS_AGE.search(q):
        return _counts
    if _WANTS_DURATION.search(q):  # a time or a length: "eight to ten hours", "3.5billion years"
        return lambda text: _MEASURE.search(text) is not None or _YEARS.search(text) is not None
    if _WANTS_MEASURE.search(q):  # "At a depth of 28 meters"
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


def _counts(text: str) -> bool:
    """Whether the text has a number that is no year and no day of a month ("14 March 1861" counts nothing)."""
    return _NUMBER.search(_YEAR.sub(" ", _DAY.sub(" ", text))) is not None


# The words that say what kind of answer is wanted ("how old", "what day"), not what it is about: a sentence that
# says "old" or "days" is no likelier to hold an age or a date
_ASKED_KIND = re.compile(
    r"\bhow (old|long|many|much|far|big|large|tall|high|deep|wide|heavy|fast|often|soon)\b"
    r"|\b(what|which) (day|year|time|date|month|century|decade|kind|type|sort)\b"
    r"|\b(his|her|their|its|\w+'s) ((first|last|full|real) )?names?(?=\W*$)",
    re.IGNORECASE,
)


def topic_terms(question: str) -> set[str]:
    """The question's content words (index/search/lexical.py terms) without those that ask for a kind of answer.

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
