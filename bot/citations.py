"""Pure citation helpers: compose an answer from quotes, and check the citation invariant."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence

from bot.types import Answer, Citation
from index.chunking import Span

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
