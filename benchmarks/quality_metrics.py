"""Pure scoring for benchmarks/quality.py: what one system did with one question, and the metrics over many."""

from __future__ import annotations

import re
import statistics
import string
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

MARKER = re.compile(r"\[\d+\]")
Metrics = dict[str, float | None]


@dataclass(frozen=True)
class Reply:
    """One system's answer to one question: text, citations (source, start, end), passage sources best first."""

    text: str
    refused: bool
    citations: list[tuple[str, int, int]] = field(default_factory=list)
    sources: list[str] = field(default_factory=list)
    ms: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)  # any other field of Answer.to_dict(), e.g. the query used

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def normalize(text: str) -> str:
    """SQuAD's official answer normalisation, `[n]` markers removed first: lower case, no punctuation or articles."""
    text = "".join(ch for ch in MARKER.sub("", text).lower() if ch not in set(string.punctuation))
    return " ".join(re.sub(r"\b(a|an|the)\b", " ", text).split())


def token_f1(prediction: str, answers: Sequence[str]) -> float:
    """SQuAD's token F1 of a short answer, best over the gold answers.

    Example: token_f1("in 997", ["997"]) -> 0.667
    """
    best = 0.0
    p = normalize(prediction).split()
    for gold in answers:
        g = normalize(gold).split()
        common = sum(min(p.count(w), g.count(w)) for w in set(p) & set(g))
        if common:
            precision, recall = common / len(p), common / len(g)
            best = max(best, 2 * precision * recall / (precision + recall))
    return best


def short_metrics(replies: Sequence[Reply], answers: Sequence[Sequence[str]]) -> Metrics:
    """How often a short answer is given (of answered questions), and its token F1 where it is."""
    given = [(r.extra["short"]["text"], a) for r, a in zip(replies, answers, strict=True)
             if not r.refused and (r.extra.get("short") or {}).get("text")]  # fmt: skip
    shown = sum(not r.refused for r in replies)
    return {
        "short answer given": len(given) / shown if shown else None,
        "short answer F1": statistics.mean(token_f1(t, a) for t, a in given) if given else None,
    }


def contains_gold(reply: Reply, answers: Sequence[str]) -> bool:
    """The answer contains one of the gold answers (SQuAD normalisation); a refusal never does.

    Example: contains_gold(Reply("In 1066 the Normans came. [1]", False), ["1066"]) is True
    """
    text = normalize(reply.text)
    return not reply.refused and any(normalize(g) and normalize(g) in text for g in answers)


def words(reply: Reply) -> int:
    """Answer length in words, `[n]` markers not counted."""
    return len(MARKER.sub("", reply.text).split())


def cites_span(reply: Reply, source: str, start: int, end: int) -> bool:
    """Some citation from `source` overlaps the character span [start, end)."""
    return not reply.refused and any(s == source and a < end and start < b for s, a, b in reply.citations)


def rate(values: Iterable[bool]) -> float | None:
    """The share of true values (None when there are none)."""
    items = [bool(v) for v in values]
    return sum(items) / len(items) if items else None


def median(values: Iterable[float]) -> float | None:
    items = list(values)
    return float(statistics.median(items)) if items else None


def retrieval(replies: Sequence[Reply], sources: Sequence[str]) -> Metrics:
    """hit@1 and hit@5 of the gold document among each reply's passage sources."""
    pairs = list(zip(replies, sources, strict=True))
    return {
        "hit@1": rate(bool(r.sources) and r.sources[0] == s for r, s in pairs),
        "hit@5": rate(s in r.sources[:5] for r, s in pairs),
    }


def answered(replies: Sequence[Reply], *, refuses: bool, label: str = "refused") -> Metrics:
    """Median words of non-refused answers, share refused (None for a system that never refuses), latency p50."""
    return {
        "median words": median(words(r) for r in replies if not r.refused),
        label: rate(r.refused for r in replies) if refuses else None,
        "latency p50 ms": median(r.ms for r in replies),
    }


def percent(value: float | None) -> str:
    """A share as a table cell."""
    return "–" if value is None else f"{value:.3f}"


def qa_metrics(replies: Sequence[Reply], golds: Sequence[tuple[str, Sequence[str], bool]], *, refuses: bool) -> Metrics:
    """SQuAD-style metrics; `golds` holds (gold source, gold answers, unanswerable) per question.

    Retrieval, answer and refusal metrics are over answerable questions; "refused (unanswerable)" is None without any.
    """
    answerable = [(r, g) for r, g in zip(replies, golds, strict=True) if not g[2]]
    impossible = [r for r, g in zip(replies, golds, strict=True) if g[2]]
    out = retrieval([r for r, _ in answerable], [g[0] for _, g in answerable])
    out["answer contains gold"] = rate(contains_gold(r, g[1]) for r, g in answerable)
    out.update(answered([r for r, _ in answerable], refuses=refuses, label="refused (answerable)"))
    out["refused (unanswerable)"] = rate(r.refused for r in impossible) if refuses and impossible else None
    if refuses:
        out.update(short_metrics([r for r, _ in answerable], [g[1] for _, g in answerable]))
    del out["latency p50 ms"]  # over every question, and shown last
    out["latency p50 ms"] = median(r.ms for r in replies)
    return out
