"""Language-model backends behind one small protocol; llama-index LLM classes stay inside this module."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Protocol

from bot.config import CHOICES, Settings
from bot.errors import CitebotError

if TYPE_CHECKING:
    from bot.conversation import History

BACKENDS = CHOICES["llm"]


class LLMError(CitebotError):
    """The model could not be reached or failed; callers fall back to the extractive answer."""


class TextModel(Protocol):
    """What the answerer needs from a model: stream the reply to a system prompt and a user prompt."""

    name: str

    def stream(self, system: str, prompt: str) -> Iterator[str]: ...


class FunctionModel:
    """A model that is a Python function of (system, prompt) -> reply, streamed word by word. For tests and demos."""

    def __init__(self, fn: Callable[[str, str], str], name: str = "function") -> None:
        self.fn = fn
        self.name = name
        self.calls: list[tuple[str, str]] = []

    def stream(self, system: str, prompt: str) -> Iterator[str]:
        self.calls.append((system, prompt))
        reply = self.fn(system, prompt)
        for i, word in enumerate(reply.split(" ")):
            yield word if i == 0 else " " + word


class LlamaIndexModel:
    """Adapter for a llama-index LLM: chat with a system and a user message, streamed, errors as LLMError."""

    def __init__(self, llm: Any, name: str) -> None:
        self.llm = llm
        self.name = name

    def stream(self, system: str, prompt: str) -> Iterator[str]:
        from llama_index.core.llms import ChatMessage

        messages = [ChatMessage(role="system", content=system), ChatMessage(role="user", content=prompt)]
        try:
            for chunk in self.llm.stream_chat(messages):
                if chunk.delta:
                    yield chunk.delta
        except Exception as exc:  # noqa: BLE001 - any backend failure becomes one clear message
            raise LLMError(f"{self.name} failed: {type(exc).__name__}: {exc}") from exc


def make_llm(settings: Settings) -> TextModel | None:
    """The model chosen by `settings.llm` (None for the extractive default); fails clearly on a bad choice."""
    if settings.llm == "none":
        return None
    if settings.llm == "openai-compatible":
        return _openai_compatible(settings)
    if settings.llm == "llama-cpp":
        return _llama_cpp(settings)
    raise CitebotError(f"Unknown LLM backend {settings.llm!r} (choose one of: {', '.join(BACKENDS)})")


def _openai_compatible(settings: Settings) -> TextModel:
    from llama_index.llms.openai_like import OpenAILike

    if not settings.llm_model:
        raise CitebotError("Set the model name for --llm openai-compatible: CITEBOT_LLM_MODEL=llama3.2 (for example)")
    llm = OpenAILike(
        model=settings.llm_model,
        api_base=settings.llm_base_url,
        api_key=settings.llm_api_key or "none",
        timeout=settings.llm_timeout,
        max_retries=0,
        is_chat_model=True,
        temperature=0.0,
        max_tokens=300,
    )
    return LlamaIndexModel(llm, f"{settings.llm_model} at {settings.llm_base_url}")


def _llama_cpp(settings: Settings) -> TextModel:
    from pathlib import Path

    path = Path(settings.llm_model_path)
    if not settings.llm_model_path or not path.is_file():
        raise LLMError(f"No GGUF model file at {settings.llm_model_path!r}: set CITEBOT_LLM_MODEL_PATH to a .gguf file")
    try:
        from llama_index.llms.llama_cpp import LlamaCPP
    except ImportError as exc:
        raise LLMError("llama-cpp support is not installed: run `pip install -e .[llm]`") from exc
    try:
        llm = LlamaCPP(model_path=str(path), temperature=0.0, max_new_tokens=300, context_window=4096, verbose=False)
    except Exception as exc:  # noqa: BLE001 - a bad file is a message, not a traceback
        raise LLMError(f"Cannot load {path}: {exc}") from exc
    return LlamaIndexModel(llm, path.name)


def condense(model: TextModel, question: str, history: History) -> str:
    """Ask the model to rewrite a follow-up as a standalone question (the last three turns as context)."""
    from bot.citations import MARKER
    from bot.llm.prompts import render

    turns = []
    for q, a in list(history)[-3:]:
        reply = getattr(a, "text", a)
        turns.append(f"User: {q}\nAssistant: {MARKER.sub('', str(reply)).strip()}")
    prompt = render("condense", history="\n".join(turns), question=question)
    text = "".join(model.stream("You rewrite follow-up questions.", prompt)).strip()
    first = text.splitlines()[0].strip().strip('"') if text else ""
    return first[:500] if any(ch.isalnum() for ch in first) else question
