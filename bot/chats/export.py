"""A stored conversation as Markdown (answers with their quotes and sources) or JSON (`Answer.to_dict()` per turn).

Pure: values in, text out. Every stored text (questions, answers, quotes, titles) is escaped, so a question holding
HTML or markdown is shown as the text it is.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from datetime import UTC, datetime

from bot.chats.store import Conversation
from bot.types import Answer, Citation

Link = Callable[[Citation], str]  # the viewer's address at a citation's quote (when served): ui/render.py open_link
_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>&$])")  # as ui/render.py escape_markdown: bot/ cannot import ui/


def escape(text: str) -> str:
    """Text as literal markdown: each special character backslash-escaped, lines joined, control characters gone.

    Example: escape("<b>*x*</b>") -> "\\\\<b\\\\>\\\\*x\\\\*\\\\</b\\\\>"
    """
    flat = "".join(ch if ch.isprintable() else "\ufffd" for ch in " ".join(text.split()))  # no terminal escapes
    return _SPECIALS.sub(r"\\\1", flat)


def to_json(conversation: Conversation) -> str:
    """The conversation as JSON: id, title, times, turns and `Answer.to_dict()` per turn."""
    return json.dumps(conversation.to_dict(), ensure_ascii=False, indent=2)


def to_markdown(conversation: Conversation, *, link: Link | None = None) -> str:
    """The conversation as Markdown: each question, its answer, and each citation's quote with its source (a link
    to the viewer at the quote when `link` is given)."""
    s = conversation.summary
    head = [
        f"# {escape(s.title)}",
        "",
        f"_{s.turns} turn{'s' * (s.turns != 1)}, {_when(s.created)} to {_when(s.updated)}_",
    ]
    turns = [_turn(i, a, link) for i, a in enumerate(conversation.answers, 1)]
    return "\n\n".join(["\n".join(head), *turns]) + "\n"


def _turn(i: int, answer: Answer, link: Link | None) -> str:
    lines = [f"## {i}. {escape(answer.question)}", ""]
    if answer.refused:
        lines.append(f"**Not in the documents.** {escape(answer.text)}")
    else:
        lines.append(escape(answer.text))
    if answer.short is not None:
        lines += ["", f"In short: **{escape(answer.short.text)}** \\[{answer.short.n}\\]"]
    for c in answer.citations:
        lines += ["", f"> {escape(c.quote)}", ">", f"> \\[{c.n}\\] {_source(c, link)}"]
    return "\n".join(lines)


def _source(c: Citation, link: Link | None) -> str:
    """`[n]`'s source: name, location and offsets; a link when served.

    Example: a.txt 0-9 -> "`a.txt` (0-9)" or "[`a.txt` (0-9)](http://host/?c=x#cb-open?...)"
    """
    where = f"{escape(c.location)}, " if c.location else ""
    label = f"`{c.source.replace('`', '')}` ({where}{c.start}-{c.end})"
    return f"[{label}](<{link(c)}>)" if link else label


def _when(stamp: float) -> str:
    """A time for people. Example: _when(0) -> '1970-01-01 00:00 UTC'"""
    return datetime.fromtimestamp(stamp, UTC).strftime("%Y-%m-%d %H:%M UTC")
