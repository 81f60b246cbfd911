"""The conversations beside the chat: each user's saved conversations, newest first; search, open, rename, delete
(confirmed) and "New chat". The open one's id is in the page's URL (?c=ID): a reload or a second tab comes back to
it, and a follow-up then reads its history from the store."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import quote

from bot.chats.store import LOCAL_USER, Conversation, Saving
from bot.checks.saved import Turn
from bot.conversation import History, history_from_pairs
from bot.errors import CitebotError, ConversationNotFound
from bot.types import Answer
from ui.render import Chat, Kept, Pairs, escape_markdown, format_answer, render_sources

if TYPE_CHECKING:
    import gradio as gr

# The URL follows the open conversation (replaceState: no page load, no history entry).
SET_URL = """(cid) => { const u = new URL(window.location.href);
  if (cid) u.searchParams.set('c', cid); else u.searchParams.delete('c');
  window.history.replaceState(null, '', u); return cid; }"""
CONFIRM_DELETE = (
    "(cid, search) => [cid && confirm('Delete this conversation? It cannot be brought back.') ? cid : null, search]"
)
Shown = tuple[Chat, str, Pairs, Kept, str, Any, str, str]  # chat, sources, history, kept, id, list, title, notice


@dataclass(frozen=True)
class Panel:
    """The panel's components that the chat's events also read or update."""

    cid: gr.State
    url: gr.Textbox
    listing: gr.Radio
    title: gr.Textbox
    notice: gr.Markdown
    search: gr.Textbox
    new: gr.Button
    rename: gr.Button
    delete: gr.Button


def user_of(request: gr.Request | None) -> str:
    """Who is asking: the page's login, or the one local user without --auth."""
    return getattr(request, "username", None) or LOCAL_USER


class Memory:
    """The chat's side of the store: history to answer from, turns saved, the list; faults become notices."""

    def __init__(self, saving: Saving) -> None:
        self.saving = saving

    def history(self, user: str, cid: str, pairs: Pairs) -> History:
        """The saved conversation's turns (whole Answers) when there is one, else the page's own pairs."""
        if self.saving.store is not None and cid:
            try:
                return self.saving.store.get(user, cid).history
            except CitebotError:
                pass  # deleted in another tab, or the store failed: the page's copy still answers
        return history_from_pairs(pairs)

    def save(self, user: str, cid: str, answer: Answer) -> tuple[str, str]:
        """Append the turn; the conversation's id and the status line (markdown): its export links, or why the
        turn was not saved."""
        store = self.saving.store
        if store is None:
            return cid, escape_markdown(self.saving.notice)
        try:
            try:
                cid = store.append(user, cid or None, answer)
            except ConversationNotFound:  # deleted meanwhile (another tab): this turn starts a new one
                cid = store.append(user, None, answer)
        except CitebotError as exc:
            return cid, escape_markdown(f"This answer was not saved: {exc}")
        return cid, export_links(cid)

    def listing(self, user: str, cid: str, search: str = "") -> Any:
        """The list (a Radio of titles by id), the open conversation selected."""
        import gradio as gr

        if self.saving.store is None:
            return gr.Radio(choices=[], value=None)
        try:
            found = self.saving.store.list(user, search=search)
        except CitebotError:
            return gr.Radio(choices=[], value=None)
        choices = [(s.title, s.id) for s in found]
        return gr.Radio(choices=choices, value=cid if any(i == cid for _, i in choices) else None)

    def show(self, user: str, cid: str, search: str = "") -> Shown:
        """Everything the page shows of conversation `cid` ("" or not found: a new chat)."""
        conversation = None
        if self.saving.store is not None and cid:
            try:
                conversation = self.saving.store.get(user, cid)
            except CitebotError:
                conversation = None
        if conversation is None:
            return [], render_sources(None), [], {}, "", self.listing(user, "", search), "", self._status("")
        chat, pairs, kept = restore(conversation)
        last = conversation.answers[-1] if conversation.answers else None
        title = conversation.summary.title
        return chat, render_sources(last), pairs, kept, cid, self.listing(user, cid, search), title, self._status(cid)

    def _status(self, cid: str) -> str:
        """Why nothing is saved, or the open conversation's export links."""
        if self.saving.store is None:
            return escape_markdown(self.saving.notice)
        return export_links(cid) if cid else ""


def export_links(cid: str) -> str:
    """Markdown links exporting the conversation (the API, which the page's login opens).

    Example: export_links("a1") -> "Export: [Markdown](/api/conversations/a1/export) · [JSON](...?format=json)"
    """
    url = f"/api/conversations/{quote(cid, safe='')}/export"
    return f"Export: [Markdown]({url}) · [JSON]({url}?format=json)"


def restore(conversation: Conversation) -> tuple[Chat, Pairs, Kept]:
    """The chat bubbles, history pairs and savable turns of a stored conversation, as the page made them."""
    chat: Chat = []
    pairs: Pairs = []
    kept: Kept = {}
    questions: tuple[str, ...] = ()
    for answer in conversation.answers:
        questions = (*questions, answer.question)
        chat += [{"role": "user", "content": escape_markdown(answer.question)},
                 {"role": "assistant", "content": format_answer(answer)}]  # fmt: skip
        kept[len(chat) - 1] = Turn(questions, answer)
        pairs.append([answer.question, answer.text])
    return chat, pairs, kept


def conversations_panel(memory: Memory) -> Panel:
    """The list's column (inside the Blocks being built); events are wired by `wire` once the chat exists."""
    import gradio as gr

    new = gr.Button("New chat", elem_id="new-chat", size="sm")
    search = gr.Textbox(placeholder="Search conversations…", show_label=False, elem_id="conv-search", max_length=200)
    listing = gr.Radio(choices=[], label="Conversations", elem_id="conv-list")
    with gr.Accordion("Rename or delete", open=False, elem_id="conv-manage"):
        title = gr.Textbox(label="Title", elem_id="conv-title", max_length=200)
        with gr.Row():
            rename = gr.Button("Rename", elem_id="conv-rename", size="sm")
            delete = gr.Button("Delete", elem_id="conv-delete", variant="stop", size="sm")
    notice = gr.Markdown(escape_markdown(memory.saving.notice), elem_id="conv-notice")
    url = gr.Textbox(visible="hidden", elem_id="conv-url")
    return Panel(gr.State(""), url, listing, title, notice, search, new, rename, delete)


def wire(app: gr.Blocks, panel: Panel, memory: Memory, shown: list[Any]) -> None:
    """Connect the panel's events; `shown` is the chat's [chat, sources, history, kept] that opening replaces."""
    import gradio as gr

    p = panel
    outputs = [*shown, p.cid, p.listing, p.title, p.notice]
    private: dict[str, Any] = {"api_visibility": "private"}

    def opened(cid: str | None, search: str, request: gr.Request) -> Shown:
        return memory.show(user_of(request), cid or "", search)

    def on_load(request: gr.Request) -> Shown:
        return memory.show(user_of(request), request.query_params.get("c", "") if request else "")

    def searched(search: str, cid: str, request: gr.Request) -> Any:
        return memory.listing(user_of(request), cid, search)

    def renamed(cid: str, title: str, search: str, request: gr.Request) -> tuple[Any, str]:
        if memory.saving.store is None or not cid:
            return gr.skip(), "Open a saved conversation to rename it."
        try:
            memory.saving.store.rename(user_of(request), cid, title)
        except CitebotError as exc:
            return gr.skip(), escape_markdown(str(exc))
        return memory.listing(user_of(request), cid, search), "Renamed."

    def started(request: gr.Request) -> Shown:
        return memory.show(user_of(request), "")

    def deleted(cid: str | None, search: str, request: gr.Request) -> Any:
        """`cid` is the URL's (what the page shows); None when the confirmation was declined: nothing changes."""
        if not cid or memory.saving.store is None:
            return tuple(gr.skip() for _ in outputs)
        try:
            memory.saving.store.delete(user_of(request), cid)
        except CitebotError as exc:
            return (*(gr.skip() for _ in outputs[:-1]), escape_markdown(str(exc)))
        return memory.show(user_of(request), "", search)

    for fn in (opened, on_load, searched, renamed, started, deleted):
        fn.__annotations__["request"] = gr.Request  # Gradio finds the request by this (resolved) annotation
    follow = {"fn": lambda cid: cid, "inputs": [p.cid], "outputs": [p.url], **private}
    p.listing.input(opened, [p.listing, p.search], outputs, **private).then(**follow)
    gr.on([p.search.submit, p.search.change], searched, [p.search, p.cid], [p.listing], **private)
    app.load(on_load, None, outputs, **private).then(**follow)
    p.new.click(started, None, outputs, **private).then(**follow)
    p.rename.click(renamed, [p.cid, p.title, p.search], [p.listing, p.notice], **private)
    p.delete.click(deleted, [p.url, p.search], outputs, js=CONFIRM_DELETE, **private).then(**follow)
    p.url.change(None, [p.url], None, js=SET_URL)
