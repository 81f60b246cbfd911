"""How the reader sees a question and a candidate sentence: one text pair, written the same way in training
(benchmarks/train_reader.py) and when answering (bot/reader.py). Pure: no model, no I/O."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any

MAX_TOKENS = 128
HISTORY_CHARS = 240  # the conversation kept in front of a follow-up: its most recent words
_TRAILING_NUMBER = re.compile(r"\s+\d+$")
_SEPARATORS = re.compile(r"[_\-\s]+")


def clean_title(title: str) -> str:
    """A document's title as the reader sees it: separators as spaces, a trailing part number dropped.

    Example: clean_title("Grapes_of_Wrath 003") -> "Grapes of Wrath"
    """
    return _TRAILING_NUMBER.sub("", _SEPARATORS.sub(" ", title).strip())


def question_text(question: str, history: Sequence[str] = ()) -> str:
    """The first text of the pair: the question, then the conversation before it (question, answer, ...), its most
    recent turn first and cut after HISTORY_CHARS characters.

    Example: question_text("When?", ["Who founded it?", "Olav founded it."]) -> "When? [SEP] Who founded it? Olav ..."
    """
    turns = [" ".join(t.strip() for t in history[i : i + 2]) for i in range(0, len(history), 2)]
    earlier = " ".join(t for t in reversed(turns) if t)
    if not earlier:
        return question.strip()
    return f"{question.strip()} [SEP] {earlier[:HISTORY_CHARS]}"


def sentence_text(title: str, sentence: str, before: str = "", before_chars: int = 0) -> tuple[str, int]:
    """The second text of the pair (the document's title, the last `before_chars` characters of the sentence before
    it in its paragraph, then the sentence) and where the sentence starts in it.

    Example: sentence_text("Olav", "He founded it in 1030.", "Olav was a king.", 40) -> ("Olav : Olav was a king.
    [SEP] He founded it in 1030.", 30)
    """
    prefix = f"{clean_title(title)} : " if clean_title(title) else ""
    tail = before.strip()[-before_chars:] if before_chars > 0 else ""
    if tail:
        cut = tail.find(" ") if len(before.strip()) > before_chars else -1
        prefix += f"{tail[cut + 1 :]} [SEP] "
    return prefix + sentence, len(prefix)


def fitted(encode: Callable[[str, str], Any], first: str, second: str, plain: str) -> tuple[Any, str]:
    """`encode(first, second)`, or `encode(first, plain)` (the second text without the sentence before) when the
    first overflows MAX_TOKENS: a sentence's end is worth more than the words before it. `encode` truncates at
    MAX_TOKENS and lists what it cut in `.overflowing`."""
    encoding = encode(first, second)
    if encoding.overflowing and second != plain:
        return encode(first, plain), plain
    return encoding, second
