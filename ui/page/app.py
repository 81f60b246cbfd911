"""The browser chat: a Gradio app over a Bot. Rendering is pure; no retrieval or answering logic lives here."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.checks.saved import Turn, Verdict, parse_words, save_turn
from bot.conversation import history_from_pairs
from bot.errors import CitebotError
from bot.types import Answer
from index.documents.loader import SUFFIXES
from ui.render import Chat, Kept, Pairs, escape_markdown, format_answer, render_sources

if TYPE_CHECKING:
    import gradio as gr

    from bot.answerer import Bot
    from bot.chats.store import Saving
    from bot.library import Library
    from ui.page.conversations_panel import Memory

EXAMPLES = [
    "Why can't Ukraine join NATO?",
    "How many personnel will the brigade in Lithuania have?",
    "When will the German unit reach full operational capability?",
]
WRITING = "<div class='cb-sources'><p>Writing the answer…</p></div>"
SAVE_AS_TEST = "Save as test"
VERDICTS: dict[bool | str, Verdict] = {True: "good", SAVE_AS_TEST: "good", False: "wrong"}


def build_app(
    bot: Bot, library: Library | None = None, *, watch: bool = False, saving: Saving | None = None
) -> gr.Blocks:
    """The chat page: saved conversations beside the chat, sources, uploads, documents, and the `/ask` API."""
    import gradio as gr

    from bot.chats.store import Saving
    from bot.library import Library
    from ui.page.conversations_panel import Memory, conversations_panel, wire
    from ui.page.documents_tab import documents_tab

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
                gr.Examples(EXAMPLES, inputs=question, label="Try")
                save_status = gr.Markdown(elem_id="save-status")  # empty until 👍, 👎 or the section below saves
                # For whoever keeps the documents' question sets (docs/question-sets.md); closed for everyone else.
                with gr.Accordion("Save as test", open=False, elem_id="save-test-section"), gr.Row():
                    essential = gr.Textbox(
                        label="Essential words (default: distinctive words of the first quote)",
                        placeholder="e.g. territorial integrity, unanimous",
                        elem_id="essential",
                        max_length=500,
                        scale=3,
                    )
                    save_last = gr.Button("Save last answer as test", elem_id="save-test", size="sm", scale=1)
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
        # 👍 / "Save as test" under an answer save it as a test case, 👎 saves it marked wrong (bot/checks/saved.py).
        # Gradio may send one click twice: saving the same case again is a no-op.
        chat.like(_on_feedback(bot), [kept, essential], [save_status], api_visibility="private")
        save_last.click(_on_save_last(bot), [kept, essential], [save_status], api_visibility="private")
        documents_tab(library, refresh_every=3.0 if watch else None)
        files.upload(_upload(library), [files], [status], api_name="upload")
        gr.api(_ask(bot), api_name="ask")  # type: ignore[attr-defined]
    return app  # type: ignore[no-any-return]


def _respond(bot: Bot, memory: Memory) -> Any:
    import gradio as gr

    from ui.page.conversations_panel import user_of

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
    from ui.page.documents_tab import not_done

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

    def on_feedback(kept: Kept, essential: str | None, data: gr.LikeData) -> str:
        """👍 or "Save as test" under an answer saves it as a test; 👎 saves it marked wrong."""
        index = data.index if isinstance(data.index, int) else data.index[0]
        verdict = VERDICTS.get(data.liked) if isinstance(data.liked, bool | str) else None
        if verdict is None or index not in kept:
            return ""
        return save_answer(bot, kept[index], verdict=verdict, essential=essential)

    on_feedback.__annotations__ = {"data": gr.LikeData}  # Gradio passes the event by this (resolved) annotation
    return on_feedback


def _on_save_last(bot: Bot) -> Any:
    def on_save_last(kept: Kept, essential: str | None) -> str:
        """The button under the chat: save the latest answer as a test."""
        if not kept:
            return "Nothing to save yet: ask a question first."
        return save_answer(bot, kept[max(kept)], verdict="good", essential=essential)

    return on_save_last


def save_answer(bot: Bot, turn: Turn, *, verdict: Verdict, essential: str | None) -> str:
    """Save `turn` as a case of the documents' saved question set; the status line (markdown, escaped) says where."""
    roots = bot.stored.manifest.get("roots", [])
    try:
        saved = save_turn(
            turn, roots=roots, settings=bot.settings, verdict=verdict, essential=parse_words(essential or "")
        )
    except CitebotError as exc:
        return escape_markdown(str(exc))
    how = "Saved test" if verdict == "good" else "Saved as wrong (add `expect:` to check it)"
    again = "" if saved.added else " (it was already there)"
    return f"{how}: {escape_markdown(saved.id)} in {escape_markdown(str(saved.path))}{again}"
