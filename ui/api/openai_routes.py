"""OpenAI-compatible /v1/chat/completions and /v1/models, so other chat UIs can use citebot as a model.

The last user message is the question and the earlier user/assistant turns its history. The reply's content is the
verified answer with `[n]` markers followed by a sources list; the structured citations ride in an extra
`citations` field (on the completion, and on the last chunk when streaming).
"""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

from fastapi import APIRouter
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, ConfigDict, Field

from bot.conversation import Exchange, History
from bot.errors import EmptyQuestion
from bot.types import Answer

MODEL = "citebot"
SOURCES = "\n\nSources:\n"  # between the answer and its sources list in a reply


class Message(BaseModel):
    model_config = ConfigDict(extra="allow")
    role: str
    content: str | list[dict[str, Any]] | None = None


class ChatRequest(BaseModel):
    model_config = ConfigDict(extra="allow")  # temperature, max_tokens, ...: accepted and ignored
    model: str = MODEL
    messages: list[Message] = Field(min_length=1)
    stream: bool = False


def text_of(message: Message) -> str:
    """The text of a message whose content is a string or a list of parts.

    Example: content [{"type": "text", "text": "Hi"}] -> "Hi"
    """
    if isinstance(message.content, list):
        return " ".join(str(p.get("text", "")) for p in message.content if p.get("type") == "text")
    return message.content or ""


def conversation(messages: list[Message]) -> tuple[str, History]:
    """The question (the last user message) and history (earlier user turns paired with the reply after each).

    Example: [user "A", assistant "a", user "B"] -> ("B", [("A", "a")])
    """
    turns = [m for m in messages if m.role in ("user", "assistant")]
    last = max((i for i, m in enumerate(turns) if m.role == "user"), default=-1)
    if last < 0:
        raise EmptyQuestion("No user message: the last message with role 'user' is the question")
    history: list[Exchange] = []
    pending = None
    for m in turns[:last]:
        if m.role == "user":
            pending = text_of(m)
        elif pending is not None:  # our own earlier reply comes back with its sources list: keep the answer
            history.append((pending, text_of(m).split(SOURCES)[0]))
            pending = None
    return text_of(turns[last]), history


def reply_text(answer: Answer) -> str:
    """The answer with its [n] markers, then one line per source: file, location and the quote.

    Example: 'It rains. [1]\\n\\nSources:\\n[1] a.txt p. 2: "It rains."'
    """
    if not answer.citations:
        return answer.text
    lines = [f'[{c.n}] {c.source}{" " + c.location if c.location else ""}: "{c.quote}"' for c in answer.citations]
    return answer.text + SOURCES + "\n".join(lines)


def completion(answer: Answer, model: str) -> dict[str, Any]:
    """A chat.completion object carrying the cited answer, plus `citations` and `refused`."""
    data = answer.to_dict()
    return {
        "id": f"chatcmpl-{uuid.uuid4().hex[:24]}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": reply_text(answer)}, "finish_reason": "stop"}
        ],  # fmt: skip
        "usage": {"prompt_tokens": 0, "completion_tokens": 0, "total_tokens": 0},
        "citations": data["citations"],
        "refused": answer.refused,
    }


def chunks(answer: Answer, model: str) -> Iterator[str]:
    """Server-sent events of chat.completion.chunk objects: role, the text in pieces, then citations; [DONE]."""
    head = {"id": f"chatcmpl-{uuid.uuid4().hex[:24]}", "object": "chat.completion.chunk",
            "created": int(time.time()), "model": model}  # fmt: skip

    def event(delta: dict[str, Any], finish: str | None = None, **extra: Any) -> str:
        body = {**head, "choices": [{"index": 0, "delta": delta, "finish_reason": finish}], **extra}
        return f"data: {json.dumps(body, ensure_ascii=False)}\n\n"

    yield event({"role": "assistant", "content": ""})
    text = reply_text(answer)
    for i in range(0, len(text), 40):
        yield event({"content": text[i : i + 40]})
    yield event({}, "stop", citations=answer.to_dict()["citations"], refused=answer.refused)
    yield "data: [DONE]\n\n"


def add_openai_routes(router: APIRouter, bot: Any) -> None:
    """Add /v1/models and /v1/chat/completions to `router`."""

    @router.get("/v1/models", tags=["openai"], summary="The one model: citebot")
    def models() -> dict[str, Any]:
        return {"object": "list", "data": [{"id": MODEL, "object": "model", "created": 0, "owned_by": "citebot"}]}

    @router.post("/v1/chat/completions", tags=["openai"], summary="OpenAI-compatible chat (stream or not)")
    def chat(body: ChatRequest) -> Any:
        """The answer is verified before it is sent, so a stream carries the final cited text, in pieces."""
        question, history = conversation(body.messages)
        answer = bot.answer(question, history)
        if body.stream:
            return StreamingResponse(_sent(chunks(answer, body.model)), media_type="text/event-stream")
        return completion(answer, body.model)


async def _sent(events: Iterator[str]) -> AsyncIterator[str]:
    """The events from the event loop itself: they are ready, so no worker thread per chunk."""
    for event in events:
        yield event
