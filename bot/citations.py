"""Pure citation helpers: compose an answer from quotes, and check the citation invariant."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from bot.types import Answer, Citation
from index.documents.chunking import Span
from index.documents.locations import Locations, locate

MARKER = re.compile(r"\[(\d+)\]")


def compose(quotes: Sequence[tuple[Span, float]]) -> tuple[str, list[Citation]]:
    """Join quoted sentences into an answer, each followed by its `[n]`.

    Example: [(Span("a.txt", "It rains.", 0, 9), 0.7)]
        -> ("It rains. [1]", [Citation(1, "a.txt", "It rains.", 0, 9, 0.7)])
    """
    citations = [
        Citation(n, s.source, s.text, s.start, s.end, round(score, 4)) for n, (s, score) in enumerate(quotes, 1)
    ]
    text = " ".join(f"{c.quote} [{c.n}]" for c in citations)
    return text, citations


def with_locations(citations: Sequence[Citation], locations: Mapping[str, Locations]) -> list[Citation]:
    """Each citation with the page and location label of its quote in its document (None where unknown).

    Example: a quote at 90..120 of a PDF whose page 2 starts at 100 -> page=1, location="p. 1-2"
    """
    out = []
    for c in citations:
        page, label = locate(locations.get(c.source, Locations()), c.start, c.end)
        out.append(replace(c, page=page, location=label))
    return out


def cited_numbers(text: str) -> list[int]:
    """The `[n]` markers in order of appearance.

    Example: "A [1]. B [2][1]." -> [1, 2, 1]
    """
    return [int(m) for m in MARKER.findall(text)]


def check(answer: Answer, read_source: Callable[[str], str]) -> list[str]:
    """Problems with an answer's citations (empty when the invariant holds).

    Every citation's quote must equal `source_text[start:end]`, and every `[n]` must have a citation.
    """
    problems = []
    numbers = {c.n for c in answer.citations}
    for n in cited_numbers(answer.text):
        if n not in numbers:
            problems.append(f"[{n}] has no citation")
    for c in answer.citations:
        if read_source(c.source)[c.start : c.end] != c.quote:
            problems.append(f"[{c.n}] quote is not {c.source}[{c.start}:{c.end}]")
    return problems
