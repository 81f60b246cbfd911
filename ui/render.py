"""An Answer as the page shows it, pure: the chat bubble (markdown, escaped) and the sources panel (HTML, escaped),
with each [n] a link that opens the document viewer at its quote. Used by the page (ui/page/) and the API's exports."""

from __future__ import annotations

import html
import re
from urllib.parse import quote, urlencode

from bot.checks.saved import Turn
from bot.citations import MARKER
from bot.types import Answer, Citation, Passage, Short

NOT_FOUND = "**Not in the documents.**"
RELATED_NOTE = "_Closest passages are listed under Sources as related, not an answer._"
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>&$])")

Chat = list[dict[str, str]]
Pairs = list[list[str]]  # the page's history in its gr.State: [question, answer text]; a History once converted
Kept = dict[int, Turn]  # the answered turns of a session, by the chat index of the answer's message


def escape_markdown(text: str) -> str:
    """Document text as literal markdown: every markdown or HTML special character backslash-escaped.

    Example: escape_markdown("<b>*x*</b> [1]") -> "\\\\<b\\\\>\\\\*x\\\\*\\\\</b\\\\> \\\\[1\\\\]"
    """
    return _MARKDOWN_SPECIALS.sub(r"\\\1", text)


def format_answer(answer: Answer) -> str:
    """The chat bubble (markdown): quoted sentences with [n] markers, or a refusal that looks like one; then notes.

    Example: an answer citing "It rains." -> "It rains\\. \\[1\\]"
    """
    if answer.refused:
        text = f"{NOT_FOUND} {escape_markdown(answer.text)}\n\n{RELATED_NOTE}"
    else:
        text = linked_markers(answer)
    return text + "".join(f"\n\n_Note: {escape_markdown(w)}_" for w in answer.warnings)


def open_link(source: str, start: int, end: int, location: str | None = None) -> str:
    """The href that opens the document viewer at source[start:end] (ui/static/viewer.js handles it).

    Example: open_link("a b.pdf", 3, 9, "p. 2") -> "#cb-open?source=a%20b.pdf&start=3&end=9&location=p.%202"
    """
    query = {"source": source, "start": start, "end": end} | ({"location": location} if location else {})
    return "#cb-open?" + urlencode(query, quote_via=quote)


def linked_markers(answer: Answer) -> str:
    """The answer as escaped markdown whose `[n]` markers are links opening the viewer at citation n's quote.

    Example: "It rains. [1]" -> "It rains\\. [\\[1\\]](#cb-open?source=a.txt&start=0&end=9)"
    """
    by_n = {c.n: c for c in answer.citations}
    out, at = [], 0
    for m in MARKER.finditer(answer.text):
        c = by_n.get(int(m.group(1)))
        if c is None:
            continue
        out.append(_with_short(answer.text[at : m.start()], c, answer.short))
        out.append(f"[\\[{c.n}\\]]({open_link(c.source, c.start, c.end, c.location)})")
        at = m.end()
    return "".join(out) + escape_markdown(answer.text[at:])


def _with_short(segment: str, c: Citation, short: Short | None) -> str:
    """The escaped text before marker [n], with the short answer in bold where it lies inside citation n's quote.

    Example: ("Founded in 997 by Olav. ", citation 1 quoting it, short "997") -> "Founded in **997** by Olav\\. "
    """
    at = segment.find(c.quote)
    if short is None or short.n != c.n or at < 0 or not c.start <= short.start < short.end <= c.end:
        return escape_markdown(segment)
    i, j = at + short.start - c.start, at + short.end - c.start
    return escape_markdown(segment[:i]) + f"**{escape_markdown(segment[i:j])}**" + escape_markdown(segment[j:])


def render_sources(answer: Answer | None) -> str:
    """The sources panel (HTML, all document text escaped): each citation's quote highlighted in its passage."""
    if answer is None:
        return "<div class='cb-sources'><p>Sources for each answer appear here.</p></div>"
    searched = _searched(answer)
    if answer.refused:
        items = "".join(_related(p) for p in answer.passages[:3]) or "<p>No passages are close.</p>"
        return f"<div class='cb-sources cb-refused'>{searched}<h4>Related, not an answer</h4>{items}</div>"
    items = "".join(_cited(c, answer.passages) for c in answer.citations)
    return f"<div class='cb-sources'>{searched}<h4>Sources</h4>{items}</div>"


def _searched(answer: Answer) -> str:
    """What retrieval looked for, when it was more than the question (a follow-up with its context)."""
    shown = [q for q in answer.searched if q != answer.question]
    if not shown:
        return ""
    return "<p class='cb-searched'><small>searched for: " + " · ".join(html.escape(q) for q in shown) + "</small></p>"


def _cited(c: Citation, passages: list[Passage]) -> str:
    """One citation: [n], file, score, and the quote marked inside its surrounding passage."""
    around = next((p for p in passages if p.source == c.source and p.start <= c.start and c.end <= p.end), None)
    if around is None:
        body = f"<mark>{html.escape(c.quote)}</mark>"
    else:
        i, j = c.start - around.start, c.end - around.start
        body = (
            html.escape(around.text[:i])
            + f"<mark>{html.escape(around.text[i:j])}</mark>"
            + html.escape(around.text[j:])
        )
    href = html.escape(open_link(c.source, c.start, c.end, c.location))
    where = f" <small>{html.escape(c.location)}</small>" if c.location else ""
    head = (f"<a class='cb-open' href='{href}'><b>[{c.n}]</b> <code>{html.escape(c.source)}</code></a>{where} "
            f"<small>score {c.score:.2f}</small>")  # fmt: skip
    return f"<div class='cb-citation' data-n='{c.n}'><p>{head}</p><blockquote>{body}</blockquote></div>"


def _related(p: Passage) -> str:
    href = html.escape(open_link(p.source, p.start, p.end))
    head = (
        f"<a class='cb-open' href='{href}'><code>{html.escape(p.source)}</code></a> <small>score {p.score:.2f}</small>"
    )
    return f"<div class='cb-related'><p>{head}</p><blockquote>{html.escape(p.text)}</blockquote></div>"
