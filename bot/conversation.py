"""Follow-up questions without an LLM: what the previous turn was about, and the queries that carry it forward.

A follow-up ("When?", "What did he do next?") leans on the conversation: its words alone find little. The state kept
is the earlier question and where the previous answer was quoted from (source and offsets: from an `Answer`, or
found again from the quoted text when the history holds plain strings, as the page and the HTTP API send it).
For a question that continues the conversation (it `refers_back`, or is `elliptical` and Engine.follows finds it
on the thread), retrieval adds a query made of the previous question, its answer and this one; sentence scoring also
prefers the previous answer's document, its quotes and the sentence after each, and counts the previous question's
words in a passage's and a title's coverage (bot/engine.py), with weights fitted on conversations
(bot/extractive.py). Any other question is answered, or refused, on its own words.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bot.citations import MARKER
from bot.errors import BadHistory
from bot.retrieval import Query
from bot.types import Answer
from index.search.lexical import terms

Exchange = tuple[str, "str | Answer"]  # one earlier turn: its question, and its Answer or just the answer's text
History = Sequence[Exchange]  # the one conversation type: Bot.answer, eval, the CLI chat, the page and the APIs
Quote = tuple[str, int, int]  # source, start, end
CONTEXT_WEIGHT = 0.6
LOOK_BACK = 3  # turns searched for the last answer that quoted something
REFERRING = frozenset(
    "he she it they him her his hers its their theirs them this that these those there then else other another "
    "same former latter one ones".split()
)
# "it" in "How long does it take to boil an egg?" refers to nothing: the question says what it is about (not in "How
# long did it take to build?", whose missing object is the "it" of the conversation)
_EXPLETIVE = re.compile(
    r"\b(does|did|do|will|would|can|could) it (take|cost) (\w+ )?to \w+ (?!it\b|them\b|him\b|her\b|there\b)\w+",
    re.IGNORECASE,
)
# Asking the conversation to go on: "Tell me more", "More about the brigade?", "Go on.", "Continue". Not "else": "Who
# else is on its border?" and CoQA's "Anything else?" are answered by the rest of the sentence already quoted.
_MORE = re.compile(r"\bmore\s*(about|on|details?|info\w*)?\s*\W*$|\bmore (about|on)\b|\b(go on|continue|elaborate)\b")


@dataclass(frozen=True)
class Context:
    """What a follow-up leans on: the previous question and answer, and the places that answer quoted."""

    question: str
    answer: str
    quotes: tuple[Quote, ...]

    @property
    def sources(self) -> tuple[str, ...]:
        """The documents the answer quoted, in the order of its quotes."""
        return tuple(dict.fromkeys(source for source, _, _ in self.quotes))


def context_of(history: History, locate: Callable[[str], list[Quote]]) -> Context | None:
    """The state of the conversation after its last turn (None when there is no history).

    The turn carried forward is the last one whose answer quoted something (within LOOK_BACK turns): a refusal's
    text says nothing about the documents, so after one the turn before still holds, its question with its answer
    (the last question when none quoted).
    Example: [("Who sends a brigade?", Answer(text="Germany ... [1]", citations=[a.txt 0-40]))]
        -> Context("Who sends a brigade?", "Germany ...", (("a.txt", 0, 40),))
    """
    if not history:
        return None
    quotes: list[Quote] = []
    question, text = history[-1][0], ""
    for asked, answer in reversed(history[-LOOK_BACK:]):
        quotes = _quotes(answer, locate)
        if quotes:
            question, text = asked, answer.text if isinstance(answer, Answer) else str(answer)
            break
    return Context(question, strip_markers(text), tuple(quotes))


def _quotes(answer: str | Answer, locate: Callable[[str], list[Quote]]) -> list[Quote]:
    if isinstance(answer, Answer):
        return [(c.source, c.start, c.end) for c in answer.citations]
    return [place for quote in quoted(str(answer)) for place in locate(quote)]


def history_from_pairs(pairs: Any) -> list[Exchange]:
    """[question, answer] pairs as the page and the HTTP API send them (None for none), as a History.

    Example: [["Who sends a brigade?", "Germany ... [1]"]] -> [("Who sends a brigade?", "Germany ... [1]")]
    """
    pairs = [] if pairs is None else pairs
    ok = isinstance(pairs, list | tuple) and all(
        isinstance(p, list | tuple) and len(p) == 2 and all(isinstance(x, str) for x in p) for p in pairs
    )
    if not ok:
        raise BadHistory("The history must be a list of [question, answer] pairs of strings, oldest first")
    return [(q, a) for q, a in pairs]


def refers_back(question: str) -> bool:
    """True when a question refers back ("he", "that", "else") or continues ("And ...", "What about ...").

    A capitalised word past the first is part of a name, not a reference: "Who wrote One Hundred Years of Solitude?"
    Nor is the empty "it" of "How long does it take to boil an egg?" (`_EXPLETIVE`): off-topic questions asked after a
    squad turn refused 98.5% -> 99.5%, on the seed article after three openers 5 -> 2 of 450 answered; every
    calibration answer unchanged.

    Example: refers_back("And her sister?") -> True; refers_back("What about Mars?") -> True;
    refers_back("In what land zone?") -> False
    """
    words = question.lower().split()
    plain = _EXPLETIVE.sub(" ", question)
    own = [w.lower() for i, w in enumerate(plain.split()) if not _is_name(i, w)]
    referring = any(w.strip("?.,!'\"") in REFERRING for w in own)
    continues = bool(words) and (
        words[0] in {"and", "but", "so", "also"} or words[:2] in (["what", "about"], ["how", "about"])
    )
    return referring or asks_for_more(question) or continues


def names(question: str) -> list[str]:
    """The names a question says: its capitalised words past the first.

    Example: names("Where does Dubai lie?") -> ["Dubai"]; names("When?") -> []
    """
    return [w for i, w in enumerate(question.split()) if _is_name(i, w)]


def _is_name(position: int, word: str) -> bool:
    return position > 0 and word[:1].isupper()


def asks_for_more(question: str) -> bool:
    """True when a question asks for what the conversation has not said yet: the sentences already quoted are not
    quoted again (bot/engine.py).

    Example: asks_for_more("Tell me more") -> True; asks_for_more("Which city has more people?") -> False
    """
    return _MORE.search(question.lower()) is not None


def elliptical(question: str) -> bool:
    """True for a question of two content words or fewer ("When?", "How many?", "In what land zone?"), which may
    continue the conversation or be a new short question ("What is photosynthesis?": bot/engine.py decides).

    Example: elliptical("What county?") -> True; elliptical("Who commands the German brigade?") -> False
    """
    return len(terms(question)) <= 2


def queries_for(question: str, context: Context | None) -> list[Query]:
    """The question alone, plus (for a follow-up) the question with the previous turn, fused at a lower weight.

    Example: ("When is it ready?", Context("Who sends a brigade?", "Germany ...", ()))
        -> [Query("When is it ready?"), Query("Who sends a brigade? Germany ... When is it ready?", 0.6)]
    """
    queries = [Query(question)]
    if context is not None:
        earlier = f"{context.question} {context.answer}"[:1000]
        queries.append(Query(f"{earlier} {question}", CONTEXT_WEIGHT))
    return queries


def quoted(text: str) -> list[str]:
    """The quotes of an extractive answer: the text between its `[n]` markers.

    Example: "It rains. [1] It pours. [2]" -> ["It rains.", "It pours."]
    """
    return [part.strip() for part in MARKER.split(text)[::2] if part.strip()]


def strip_markers(text: str) -> str:
    """Drop `[n]` markers so they don't count as words.

    Example: "It rains. [1]" -> "It rains."
    """
    return " ".join(MARKER.sub("", text).split())
