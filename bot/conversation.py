"""Follow-up questions without an LLM: retrieve with the conversation in mind."""

from __future__ import annotations

from collections.abc import Sequence

from bot.retrieval import Query
from bot.types import Answer

History = Sequence[tuple[str, "str | Answer"]]
CONTEXT_WEIGHT = 0.6


def queries_for(question: str, history: History) -> list[Query]:
    """The question alone, plus (for a follow-up) the question with the previous turn, fused at a lower weight.

    Example: ("When is it ready?", [("Who sends a brigade?", "Germany ...")])
        -> [Query("When is it ready?"), Query("Who sends a brigade? Germany ... When is it ready?", 0.6)]
    """
    queries = [Query(question)]
    if history:
        previous_question, previous_answer = history[-1]
        reply = previous_answer.text if isinstance(previous_answer, Answer) else str(previous_answer)
        context = f"{previous_question} {_strip_markers(reply)}"[:1000]
        queries.append(Query(f"{context} {question}", CONTEXT_WEIGHT))
    return queries


def _strip_markers(text: str) -> str:
    """Drop `[n]` markers so they don't count as words."""
    from bot.citations import MARKER

    return MARKER.sub("", text)
