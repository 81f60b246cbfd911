"""citebot: answers questions over a folder of documents, citing verbatim passages."""

from bot.answerer import Bot, answer
from bot.config import Settings
from bot.types import Answer, Citation, Passage

__all__ = ["Answer", "Bot", "Citation", "Passage", "Settings", "answer"]
