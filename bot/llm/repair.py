"""Answers written by a language model, held to the same verified citations as the extractive answer.

The model sees the retrieved passages numbered [1]..[k] and must cite them. Its reply is then repaired: numbers
that name no passage are removed; each remaining [n] is replaced by a citation of the sentence in passage n that
best supports the claim (a verbatim quote with offsets), renumbered in order of appearance; sentences left
without any valid citation are flagged (or dropped). A reply that cites nothing valid is not used.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from bot.citations import MARKER
from bot.extractive import Candidate, Vocabulary, terms
from bot.types import Citation
from index.documents.chunking import split_sentences

UNSUPPORTED = "[unsupported]"


@dataclass(frozen=True)
class Repaired:
    """The model's reply after citation repair."""

    text: str
    citations: list[Citation]
    dropped: int
    flagged: int


def repair(reply: str, passages: Sequence[Sequence[Candidate]], vocabulary: Vocabulary, *, drop: bool) -> Repaired:
    """Check and rebuild the citations of a model reply; `passages[n - 1]` are the sentences of passage [n].

    Example: reply "It opens at dawn [2][9]." with two passages -> "It opens at dawn. [1]" citing passage 2's
    best sentence; [9] is removed.
    """
    parts: list[str] = []
    citations: dict[tuple[str, int], Citation] = {}
    dropped = flagged = 0
    for sentence in split_sentences("reply", _markers_before_stops(reply.strip())):
        valid = [n for n in dict.fromkeys(int(m) for m in MARKER.findall(sentence.text)) if 1 <= n <= len(passages)]
        claim = " ".join(MARKER.sub("", sentence.text).split())
        claim = claim[:-2] + claim[-1] if claim.endswith((" .", " ?", " !")) else claim
        if not claim:
            continue
        cited = [_best(claim, passages[n - 1], vocabulary) for n in valid if passages[n - 1]]
        if not cited:
            dropped, flagged = (dropped + 1, flagged) if drop else (dropped, flagged + 1)
            if not drop:
                parts.append(f"{claim} {UNSUPPORTED}")
            continue
        numbers = []
        for c in cited:
            key = (c.sentence.source, c.sentence.start)
            if key not in citations:
                s = c.sentence
                citations[key] = Citation(len(citations) + 1, s.source, s.text, s.start, s.end, round(c.evidence, 4))
            numbers.append(citations[key].n)
        parts.append(claim + " " + "".join(f"[{n}]" for n in dict.fromkeys(numbers)))
    return Repaired(" ".join(parts), list(citations.values()), dropped, flagged)


def _markers_before_stops(text: str) -> str:
    """Move markers written after a sentence's full stop in front of it, so they stay with their sentence.

    Example: "It opens at dawn. [2] It closes at dusk [1]." -> "It opens at dawn [2]. It closes at dusk [1]."
    """
    return _TRAILING.sub(lambda m: f" {m.group(2).strip()}{m.group(1)} ", text).strip()


_TRAILING = re.compile(r"([.!?])\s*((?:\[\d+\]\s*)+)")


def _best(claim: str, sentences: Sequence[Candidate], vocabulary: Vocabulary) -> Candidate:
    """The passage sentence sharing most (IDF-weighted) words with the claim; ties go to the better-scored one."""
    wanted = terms(claim)
    return max(sentences, key=lambda c: (vocabulary.coverage(wanted, c.sentence.text), c.score))
