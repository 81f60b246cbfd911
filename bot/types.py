"""Typed results: what `answer()` returns. Plain frozen dataclasses, no llama-index types."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk: `text == source_text[start:end]`."""

    source: str
    text: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Citation:
    """A verbatim quote backing the claim marked `[n]`: `source_text[start:end] == quote`."""

    n: int
    source: str
    quote: str
    start: int
    end: int
    score: float
    page: int | None = None  # PDFs: the 1-based page the quote starts on
    location: str | None = None  # "p. 12", "p. 12-13" across pages, or a heading path "Installation › Linux"


@dataclass(frozen=True)
class Short:
    """The short answer the reader marked inside citation `n`: `source_text[start:end] == text`, within its quote."""

    n: int
    text: str
    source: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Answer:
    """An answer with `[n]` markers, its citations and the passages it was drawn from."""

    question: str
    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    passages: list[Passage] = field(default_factory=list)
    latency_ms: float = 0.0
    warnings: list[str] = field(default_factory=list)  # e.g. "the LLM timed out"; shown by the CLI and UI
    searched: list[str] = field(default_factory=list)  # the retrieval queries used (a follow-up adds its context)
    short: Short | None = None  # the answer in a few words, when the reader is confident of it

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape printed by `citebot ask --json` and returned by the HTTP API (warnings go to stderr)."""
        return {
            "question": self.question,
            "answer": self.text,
            "refused": self.refused,
            "citations": [asdict(c) for c in self.citations],
            "passages": [asdict(p) for p in self.passages],
            "latency_ms": self.latency_ms,
            "searched_for": self.searched,
            "short": asdict(self.short) if self.short else None,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Answer:
        """The Answer `to_dict()` made (a stored conversation turn read back); warnings are not kept.

        Example: Answer.from_dict(a.to_dict()) == replace(a, warnings=[])
        """
        short = data.get("short")
        return cls(
            question=data["question"],
            text=data["answer"],
            refused=data["refused"],
            citations=[Citation(**c) for c in data.get("citations", [])],
            passages=[Passage(**p) for p in data.get("passages", [])],
            latency_ms=data.get("latency_ms", 0.0),
            searched=list(data.get("searched_for", [])),
            short=Short(**short) if short else None,
        )
