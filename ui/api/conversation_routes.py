"""/api/conversations: each user's saved conversations, listed (or searched), read, exported, renamed and deleted;
and /api/ask's turn appended to one. Another user's conversation is a 404, as one that does not exist."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from bot.chats.export import to_json, to_markdown
from bot.chats.store import LIST_LIMIT, ConversationStore, Saving
from bot.errors import CitebotError
from bot.types import Citation

NEW = "new"  # /api/ask's conversation id that starts one


class Rename(BaseModel):
    title: str = Field(description="the conversation's new title")


def add_conversation_routes(router: APIRouter, saving: Saving) -> None:
    """The /api/conversations routes over `saving.store` (a 503 saying why when there is none)."""
    from ui.api.errors import ApiError

    def store() -> ConversationStore:
        if saving.store is None:
            raise ApiError(503, saving.notice, "unavailable_error")
        return saving.store

    @router.get("/api/conversations", tags=["conversations"], summary="List (or search) your conversations")
    def listed(request: Request, q: str = "", limit: int = LIST_LIMIT) -> dict[str, Any]:
        """Newest first; with `q`, those whose questions or answers hold all its words (as prefixes)."""
        found = store().list(request.state.user, search=q, limit=max(1, min(limit, 1000)))
        return {"conversations": [s.to_dict() for s in found]}

    @router.get("/api/conversations/{cid}", tags=["conversations"], summary="A conversation and its answers")
    def read(request: Request, cid: str) -> dict[str, Any]:
        return store().get(request.state.user, cid).to_dict()

    @router.get("/api/conversations/{cid}/export", tags=["conversations"], summary="Export as Markdown or JSON")
    def export(request: Request, cid: str, format: Literal["md", "json"] = "md") -> Response:
        """Markdown: each answer with its quotes, sources linking to the viewer at the quote; JSON: Answer.to_dict()."""
        conversation = store().get(request.state.user, cid)
        if format == "json":
            return Response(to_json(conversation), media_type="application/json")
        text = to_markdown(conversation, link=viewer_link(str(request.base_url), cid))
        return PlainTextResponse(text, media_type="text/markdown; charset=utf-8")

    @router.patch("/api/conversations/{cid}", tags=["conversations"], summary="Rename a conversation")
    def rename(request: Request, cid: str, body: Rename) -> dict[str, Any]:
        store().rename(request.state.user, cid, body.title)
        return store().get(request.state.user, cid).summary.to_dict()

    @router.delete("/api/conversations/{cid}", tags=["conversations"], summary="Delete a conversation")
    def delete(request: Request, cid: str) -> dict[str, Any]:
        store().delete(request.state.user, cid)
        return {"deleted": cid}


def viewer_link(base_url: str, cid: str) -> Any:
    """The page's address opening the conversation and the viewer at a citation's quote.

    Example: ("http://h/", "abc") -> a function giving "http://h/?c=abc#cb-open?source=a.txt&start=0&end=9"
    """
    from ui.render import open_link

    def link(c: Citation) -> str:
        return f"{base_url.rstrip('/')}/?c={cid}" + open_link(c.source, c.start, c.end, c.location)

    return link


def answer_in_conversation(bot: Any, saving: Saving, user: str, question: str, cid: str) -> dict[str, Any]:
    """Answer with the conversation's saved turns as history and append the turn (`cid` "new" starts one): the
    answer's JSON with `conversation`, and `not_saved` saying why when it could not be saved."""
    store, existing = saving.store, None if cid == NEW else cid
    history = store.get(user, existing).history if store is not None and existing else []
    result = bot.answer(question, history)
    if store is None:
        return {**result.to_dict(), "conversation": existing, "not_saved": saving.notice}
    try:
        return {**result.to_dict(), "conversation": store.append(user, existing, result)}
    except CitebotError as exc:  # a full disk: the answer still goes back
        return {**result.to_dict(), "conversation": existing, "not_saved": str(exc)}
