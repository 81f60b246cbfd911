"""citebot: answers questions over a folder of documents, citing verbatim passages (docs/how-it-answers.md).

answerer             Bot.load / Bot.answer / answer(): retrieve, score, cite or refuse; follow a newer index
engine               one loaded index: gather evidence, the extractive answer, passages; follow-up or new question
retrieval            dense + BM25 retrieval fused by reciprocal rank
extractive           sentence scoring and selection
conversation         conversation state and History, the one conversation type; which questions lean on it
citations            compose [n] answers; check the citation invariant
reader, reader_format  the reader model: sentence order, the short answer, --strict's probability (docs/reader.md)
library              the documents behind a Bot: list, add, replace, remove. It stays here, not in index/, because
                     it re-indexes with the Bot's Settings and swaps the new index into the Bot
config, types, errors  Settings (the one reader of CITEBOT_*), the result types, the domain errors
question/            what a question asks: kind of answer and topic words, titles it names, spelling, overview
checks/              regression testing: question sets, comparisons, the HTML report, saved turns
llm/                 answers written by an LLM: backends, citation repair, prompts
chats/               saved conversations: the SQLite store, Markdown and JSON export
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.config import Settings
from bot.types import Answer, Citation, Passage

if TYPE_CHECKING:
    from bot.answerer import Bot, answer

__all__ = ["Answer", "Bot", "Citation", "Passage", "Settings", "answer"]


def __getattr__(name: str) -> Any:
    """Bot and answer, imported when first asked for: `citebot index` reads only the settings, and bot.answerer
    imports the whole of answering (about 0.1 s of a one-file update, docs/large-corpora.md)."""
    if name in ("Bot", "answer"):
        from bot import answerer

        return getattr(answerer, name)
    raise AttributeError(f"module 'bot' has no attribute {name!r}")
