"""Questions about a document as a whole ("What is this article about?", "Summarize it", "Who is the story about?").

They share no words with any one sentence, so retrieval and sentence scoring refuse them; a document's opening
sentences say what it is about (a news story's lead, an encyclopedia article's definition). The document is the one
the question names by title, else the one the conversation is about, else the index's only document.
"""

from __future__ import annotations

import re

__all__ = ["asks_for_overview"]

_ABOUT = re.compile(r"\b(what|who)\b.*\babout\W*$|\bsubject of\b", re.IGNORECASE)
_ABOUT_SOMETHING = re.compile(r"\babout\s+\w", re.IGNORECASE)  # "What does the article say about Belarus?"
_SUMMARY = re.compile(r"\bsummar(y|ise|ize)\b|\bsum (it |this |that )?up\b|\btl;?dr\b|\bmain (point|idea|topic)s?\b|"
                      r"\bgist\b", re.IGNORECASE)  # fmt: skip
_DOCUMENT = re.compile(
    r"\b(article|document|text|story|passage|file|page|report|piece|book|essay|paper|novel)s?\b", re.IGNORECASE
)


def asks_for_overview(question: str, *, names_a_document: bool = False) -> bool:
    """Whether the question asks what a document is about, as a whole.

    "About" questions count when they end there and say "article", "story", "document" ... or name a document by its
    title (`names_a_document`); a request for a summary or the main point does unless it is about something in it.
    Example: "What is this article about?" -> True; "Summarize it" -> True; "What is the treaty about?" -> False
    """
    if _ABOUT_SOMETHING.search(question):
        return False
    if _SUMMARY.search(question):
        return True
    return _ABOUT.search(question) is not None and (names_a_document or _DOCUMENT.search(question) is not None)
