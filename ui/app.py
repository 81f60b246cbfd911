"""The browser chat: a Gradio app over a Bot. Rendering is pure; no retrieval or answering logic lives here."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from bot.citations import MARKER
from bot.errors import CitebotError
from bot.types import Answer, Citation, Passage
from index.loader import SUFFIXES

if TYPE_CHECKING:
    import gradio as gr

    from bot.answerer import Bot
    from bot.library import Library

EXAMPLES = [
    "Why can't Ukraine join NATO?",
    "How many personnel will the brigade in Lithuania have?",
    "When will the German unit reach full operational capability?",
]
NOT_FOUND = "**Not in the documents.**"
WRITING = "<div class='cb-sources'><p>Writing the answer…</p></div>"
RELATED_NOTE = "_Closest passages are listed under Sources as related, not an answer._"
_MARKDOWN_SPECIALS = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>&$])")

Chat = list[dict[str, str]]
History = list[list[str]]


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
        out.append(escape_markdown(answer.text[at : m.start()]))
        out.append(f"[\\[{c.n}\\]]({open_link(c.source, c.start, c.end, c.location)})")
        at = m.end()
    return "".join(out) + escape_markdown(answer.text[at:])


def render_sources(answer: Answer | None) -> str:
    """The sources panel (HTML, all document text escaped): each citation's quote highlighted in its passage."""
    if answer is None:
        return "<div class='cb-sources'><p>Sources for each answer appear here.</p></div>"
    if answer.refused:
        items = "".join(_related(p) for p in answer.passages[:3]) or "<p>No passages are close.</p>"
        return f"<div class='cb-sources cb-refused'><h4>Related, not an answer</h4>{items}</div>"
    items = "".join(_cited(c, answer.passages) for c in answer.citations)
    return f"<div class='cb-sources'><h4>Sources</h4>{items}</div>"


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


def build_app(bot: Bot, library: Library | None = None, *, watch: bool = False) -> gr.Blocks:
    """The chat page: conversation per browser session, sources beside it, uploads, documents, and the `/ask` API."""
    import gradio as gr

    from bot.library import Library
    from ui.documents_tab import documents_tab

    library = library or Library(bot.settings, bot=bot)
    with gr.Blocks(title="citebot") as app:
        gr.Markdown("## citebot\nAsk about the documents; every answer quotes its sources.")
        with gr.Tab("Chat", elem_id="chat-tab"), gr.Row():
            with gr.Column(scale=3):
                chat = gr.Chatbot(label="Chat", height=460, elem_id="chat")
                question = gr.Textbox(
                    placeholder="Ask about the documents…",
                    show_label=False,
                    elem_id="question",
                    submit_btn=True,
                    max_length=10_000,
                )
                gr.Examples(EXAMPLES, inputs=question, label="Try")
            with gr.Column(scale=2):
                sources = gr.HTML(render_sources(None), elem_id="sources")
                files = gr.File(
                    label="Add documents (.txt .md .pdf .html .docx)",
                    file_count="multiple",
                    file_types=list(SUFFIXES),
                    elem_id="upload",
                )
                status = gr.Markdown(elem_id="upload-status")
        history = gr.State([])
        # The chat keeps its history in per-session state; "/chat" is what the page calls (the load test too).
        outputs = [chat, sources, history, question]
        question.submit(
            _respond(bot), [question, chat, history], outputs, api_name="chat", api_visibility="undocumented"
        )
        documents_tab(library, refresh_every=3.0 if watch else None)
        files.upload(_upload(library), [files], [status], api_name="upload")
        gr.api(_ask(bot), api_name="ask")  # type: ignore[attr-defined]
    return app  # type: ignore[no-any-return]


def _respond(bot: Bot) -> Any:
    def respond(question: str, chat: Chat, history: History) -> Iterator[tuple[Chat, str, History, str]]:
        chat = [*chat, {"role": "user", "content": escape_markdown(question)}]
        written = ""
        try:
            for event in bot.stream(question, [(q, a) for q, a in history]):
                if isinstance(event, Answer):
                    reply = {"role": "assistant", "content": format_answer(event)}
                    yield [*chat, reply], render_sources(event), [*history, [event.question, event.text]], ""
                else:  # a piece of the answer as it is written
                    written += event
                    yield [*chat, {"role": "assistant", "content": escape_markdown(written)}], WRITING, history, ""
        except CitebotError as exc:
            yield (
                [*chat, {"role": "assistant", "content": escape_markdown(str(exc))}],
                render_sources(None),
                history,
                "",
            )

    return respond


def _ask(bot: Bot) -> Any:
    def ask(question: str, history: list[list[str]]) -> dict[str, Any]:
        """Answer `question` given earlier [question, answer] pairs; returns Answer.to_dict()."""
        import gradio as gr

        try:
            pairs = [(str(q), str(a)) for q, a in (history or [])]
            return bot.answer(question, pairs).to_dict()
        except (CitebotError, ValueError, TypeError) as exc:
            raise gr.Error(str(exc)) from None

    return ask


def _upload(library: Library) -> Any:
    def upload(paths: list[str] | None) -> str:
        """Index uploaded files; report what was added, replaced (same name) and rejected."""
        if not paths:
            return ""
        report = library.add([(Path(p), Path(p).name) for p in paths])
        lines = [f"Added `{escape_markdown(s)}`: answerable now." for s in report.saved]
        lines += [f"Replaced `{escape_markdown(s)}`: answerable now." for s in report.replaced]
        lines += [f"Rejected: {escape_markdown(r)}" for r in report.rejected]
        return "\n\n".join(lines)

    return upload
