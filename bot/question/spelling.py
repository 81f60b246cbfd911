"""Misspelled question words, spelled as the documents spell them: "lithuana" -> "Lithuania", "Herve" -> "Hervé".

A word is respelled only when the documents never use it (its stem is not in the index's vocabulary), no English
dictionary has it (the embedding model's whole-word vocabulary, by stem: `index.search.lexical.is_english`), and a word
of the passages retrieved for the question is one edit away (two for words of eight letters or more) and starts with the
same letter. Candidates come from those passages rather than from the whole vocabulary: the words there are real
surface forms (a stem is not a word) and on the question's topic, so "ultimatly" becomes "ultimately", not another
word one letter away. The question is then searched again with the corrected words (bot/answerer.py).

The first-letter rule keeps real words apart ("Herve" is not "serve", "jello" not "cello"). How often it respells
calibration questions, and what it changes: `python benchmarks/typos.py` and docs/quality.md.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable, Iterable

MIN_LENGTH = 4  # three-letter words are too often another real word one letter away ("wen": when, hen, wan)
LONG = 8  # from this length two edits are allowed
_LETTERS = re.compile(r"[^\W\d_]+")


def respell(question: str, texts: Iterable[str], *, known: Callable[[str], bool], real: Callable[[str], bool]) -> str:
    """The question with each unknown, non-dictionary word replaced by its nearest word in `texts`.

    `known(word)`: the documents use the word; `real(word)`: a dictionary has it. Both words are left alone.
    Example: respell("Who leads Lithuana?", ["Lithuania is ..."], known=..., real=...) -> "Who leads Lithuania?"
    """
    unknown = {m.group().lower() for m in _LETTERS.finditer(question)}
    unknown = {w for w in unknown if len(w) >= MIN_LENGTH and not known(w) and not real(w)}
    if not unknown:
        return question
    pool = Counter(w.lower() for text in texts for w in _LETTERS.findall(text))
    fixes = {w: better for w in unknown if (better := nearest(w, pool)) is not None}

    def fix(match: re.Match[str]) -> str:
        word = match.group()
        better = fixes.get(word.lower())
        if better is None:
            return word
        return better[0].upper() + better[1:] if word[0].isupper() else better

    return _LETTERS.sub(fix, question)


def nearest(word: str, pool: Counter[str]) -> str | None:
    """The word of `pool` fewest edits from `word` (then the most frequent, then the first in order), same first letter.

    Example: nearest("ultimatly", Counter({"ultimately": 2, "ultimate": 1})) -> "ultimately"
    """
    limit = 1 if len(word) < LONG else 2
    best: tuple[int, int, str] | None = None
    for candidate, count in pool.items():
        if candidate[0] != word[0] or candidate == word:
            continue
        d = distance(word, candidate, limit)
        if d <= limit and (best is None or (d, -count, candidate) < best):
            best = (d, -count, candidate)
    return None if best is None else best[2]


def distance(a: str, b: str, limit: int) -> int:
    """Edits (insert, delete, replace, swap two neighbours) from `a` to `b`; limit + 1 for anything above `limit`.

    Example: distance("recieve", "receive", 2) -> 1; distance("brigade", "battalion", 2) -> 3
    """
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        row = [i] + [0] * len(b)
        for j, cb in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (ca != cb))
            if i > 1 and j > 1 and ca == b[j - 2] and a[i - 2] == cb:
                row[j] = min(row[j], before[j - 2] + 1)
        if min(row) > limit:
            return limit + 1
        before, previous = previous, row
    return min(previous[-1], limit + 1)
