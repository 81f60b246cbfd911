"""The browser chat: a Gradio app over a Bot. Rendering is pure; no retrieval or answering logic lives here."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import quote, urlencode

from bot.citations import MARKER
from bot.conversation import history_from_pairs
from bot.errors import CitebotError
from bot.saved import Turn, Verdict, parse_words, save_turn
from bot.types import Answer, Citation, Passage, Short
from index.documents.loader import SUFFIXES

if TYPE_CHECKING:
    import gradio as gr

    from bot.answerer import Bot
    from bot.conversations import Saving
    from bot.library import Library
    from ui.conversations_panel import Memory

EXAMPLES = [
    "Why can't Ukraine join NATO?",
    "How many personnel will the brigade in Lithuania have?",
    "When will the German unit reach full operational capability?",
]
NOT_FOUND = "**Not in the documents.**"
WRITING = "<div class='cb-sources'><p>Writing the answer…</p></div>"
RELATED_NOTE = "_Closest passages are listed under Sources as related, not an answer._"
SAVE_AS_TEST = "Save as test"
VERDICTS: dict[bool | str, Verdict] = {True: "good", SAVE_AS_TEST: "good", False: "wrong"}
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


def build_app(
    bot: Bot, library: Library | None = None, *, watch: bool = False, saving: Saving | None = None
) -> gr.Blocks:
    """The chat page: saved conversations beside the chat, sources, uploads, documents, and the `/ask` API."""
    import gradio as gr

    from bot.conversations import Saving
    from bot.library import Library
    from ui.conversations_panel import Memory, conversations_panel, wire
    from ui.documents_tab import documents_tab

    library = library or Library(bot.settings, bot=bot)
    memory = Memory(saving or Saving(None, "Conversations are not saved by this page."))
    with gr.Blocks(title="citebot") as app:
        gr.Markdown("## citebot\nAsk about the documents; every answer quotes its sources.")
        with gr.Tab("Chat", elem_id="chat-tab"), gr.Row():
            with gr.Column(scale=1, min_width=220, elem_id="conversations"):
                panel = conversations_panel(memory)
            with gr.Column(scale=3):
                chat = gr.Chatbot(
                    label="Chat", height=460, elem_id="chat", feedback_options=("Like", "Dislike", SAVE_AS_TEST)
                )
                question = gr.Textbox(
                    placeholder="Ask about the documents…",
                    show_label=False,
                    elem_id="question",
                    submit_btn=True,
                    max_length=10_000,
                )
                with gr.Row():
                    essential = gr.Textbox(
                        label="Essential words for a saved test (default: distinctive words of the first quote)",
                        placeholder="e.g. territorial integrity, unanimous",
                        elem_id="essential",
                        max_length=500,
                        scale=3,
                    )
                    save_last = gr.Button("Save last answer as test", elem_id="save-test", size="sm", scale=1)
                save_status = gr.Markdown(elem_id="save-status")
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
        history, kept = gr.State([]), gr.State({})
        # The chat keeps its history in per-session state and the store (a saved conversation's turns answer a
        # follow-up after a reload); "/chat" is what the page calls (the load test too).
        outputs = [chat, sources, history, question, kept, panel.cid, panel.listing, panel.notice]
        question.submit(
            _respond(bot, memory), [question, chat, history, kept, panel.cid], outputs, api_name="chat",
            api_visibility="undocumented",
        ).then(lambda cid: cid, [panel.cid], [panel.url], api_visibility="private")  # fmt: skip
        wire(app, panel, memory, [chat, sources, history, kept])
        # 👍 / "Save as test" under an answer save it as a test case, 👎 saves it marked wrong (bot/saved.py).
        # Gradio may send one click twice: saving the same case again is a no-op.
        chat.like(_on_feedback(bot), [kept, essential], [save_status], api_visibility="private")
        save_last.click(_on_save_last(bot), [kept, essential], [save_status], api_visibility="private")
        documents_tab(library, refresh_every=3.0 if watch else None)
        files.upload(_upload(library), [files], [status], api_name="upload")
        gr.api(_ask(bot), api_name="ask")  # type: ignore[attr-defined]
    return app  # type: ignore[no-any-return]


def _respond(bot: Bot, memory: Memory) -> Any:
    import gradio as gr

    from ui.conversations_panel import user_of

    def respond(question: str, chat: Chat, history: Pairs, kept: Kept, cid: str, request: gr.Request) -> Iterator[Any]:
        user, same = user_of(request), (gr.skip(), gr.skip(), gr.skip())  # the conversation's outputs, unchanged
        past = memory.history(user, cid, history)
        chat = [*chat, {"role": "user", "content": escape_markdown(question)}]
        written = ""
        try:
            for event in bot.stream(question, past):
                if isinstance(event, Answer):
                    reply = {"role": "assistant", "content": format_answer(event)}
                    turn = Turn((*(q for q, _ in history), event.question), event)
                    history = [*history, [event.question, event.text]]
                    cid, note = memory.save(user, cid, event)
                    yield ([*chat, reply], render_sources(event), history, "", {**kept, len(chat): turn}, cid,
                           memory.listing(user, cid), note)  # fmt: skip
                else:  # a piece of the answer as it is written
                    written += event
                    reply = {"role": "assistant", "content": escape_markdown(written)}
                    yield [*chat, reply], WRITING, history, "", kept, *same
        except CitebotError as exc:
            reply = {"role": "assistant", "content": escape_markdown(str(exc))}
            yield [*chat, reply], render_sources(None), history, "", kept, *same

    respond.__annotations__["request"] = gr.Request  # Gradio finds the request by this (resolved) annotation
    return respond


def _ask(bot: Bot) -> Any:
    def ask(question: str, history: Pairs) -> dict[str, Any]:
        """Answer `question` given earlier [question, answer] pairs; returns Answer.to_dict()."""
        import gradio as gr

        try:
            return bot.answer(question, history_from_pairs(history)).to_dict()
        except (CitebotError, ValueError, TypeError) as exc:
            raise gr.Error(str(exc)) from None

    return ask


def _upload(library: Library) -> Any:
    from ui.documents_tab import not_done

    def upload(paths: list[str] | None) -> str:
        """Index uploaded files; report what was added, replaced (same name) and rejected."""
        if not paths:
            return ""
        try:
            report = library.add([(Path(p), Path(p).name) for p in paths])
        except CitebotError as exc:  # e.g. another citebot is indexing: the file is kept, indexed by the next run
            return escape_markdown(f"{not_done(exc)}: {exc}")
        lines = [f"Added `{escape_markdown(s)}`: answerable now." for s in report.saved]
        lines += [f"Replaced `{escape_markdown(s)}`: answerable now." for s in report.replaced]
        lines += [f"Rejected: {escape_markdown(r)}" for r in report.rejected]
        return "\n\n".join(lines)

    return upload


def _on_feedback(bot: Bot) -> Any:
    import gradio as gr

    def on_feedback(kept: Kept, essential: str, data: gr.LikeData) -> str:
        """👍 or "Save as test" under an answer saves it as a test; 👎 saves it marked wrong."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        verdict = VERDICTS.get(data.liked) if isinstance(data.liked, bool | str) else None
        if verdict is None or index not in kept:
            return ""
        return save_answer(bot, kept[index], verdict=verdict, essential=essential)

    on_feedback.__annotations__ = {"data": gr.LikeData}  # Gradio passes the event by this (resolved) annotation
    return on_feedback


def _on_save_last(bot: Bot) -> Any:
    def on_save_last(kept: Kept, essential: str) -> str:
        """The button under the chat: save the latest answer as a test."""
        if not kept:
            return "Nothing to save yet: ask a question first."
        return save_answer(bot, kept[max(kept)], verdict="good", essential=essential)

    return on_save_last


def save_answer(bot: Bot, turn: Turn, *, verdict: Verdict, essential: str) -> str:
    """Save `turn` as a case of the documents' saved question set; the status line (markdown, escaped) says where."""
    roots = bot.stored.manifest.get("roots", [])
    try:
        saved = save_turn(turn, roots=roots, settings=bot.settings, verdict=verdict, essential=parse_words(essential))
    except CitebotError as exc:
        return escape_markdown(str(exc))
    how = "Saved test" if verdict == "good" else "Saved as wrong (add `expect:` to check it)"
    again = "" if saved.added else " (it was already there)"
    return f"{how}: {escape_markdown(saved.id)} in {escape_markdown(str(saved.path))}{again}"
