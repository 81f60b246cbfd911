"""Fakes for unit tests: a hashing embedder (word overlap ranks correctly, no model) and helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from llama_index.core.base.embeddings.base import BaseEmbedding

from bot.config import Settings
from index.embedding.hash_embed import hash_vector

DIM = 384
__all__ = ["DIM", "HashingEmbedder", "hash_vector", "hashing_settings", "write_docs"]


class HashingEmbedder(BaseEmbedding):
    """A deterministic llama-index embedding with no model; counts the texts it embeds."""

    calls: list[str] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(model_name="hashing", embed_batch_size=64, **kwargs)
        self.calls = []

    def _get_text_embedding(self, text: str) -> list[float]:
        self.calls.append(text)
        return hash_vector(text)

    def _get_query_embedding(self, query: str) -> list[float]:
        return hash_vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return hash_vector(query)


# The keys of Answer.to_dict(), in order: what `ask --json`, /api/ask and the page's JSON return (README)
ANSWER_KEYS = ["question", "answer", "refused", "citations", "passages", "latency_ms", "searched_for", "short"]


def hashing_settings(index_dir: Path, **overrides: Any) -> Settings:
    """Settings for an index built with the hashing embedder."""
    return Settings.from_env({}, index_dir=index_dir, embed_model="hashing", **overrides)


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    """Write {relative path: text} under folder and return it."""
    for name, text in docs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


class FakeOpenAIServer:
    """An OpenAI-compatible chat server on loopback: replies with `reply` (streamed or not), or stalls `delay` s."""

    def __init__(self, reply: str = "", delay: float = 0.0) -> None:
        import http.server
        import threading

        self.reply, self.delay = reply, delay
        self.requests: list[dict[str, Any]] = []
        server = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # noqa: N802 - the http.server API
                import json
                import time

                body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
                server.requests.append(body)
                time.sleep(server.delay)
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("Content-Type", "text/event-stream")
                    self.end_headers()
                    for piece in server.reply.split(" "):
                        self.wfile.write(f"data: {json.dumps(_chunk(piece + ' '))}\n\n".encode())
                    self.wfile.write(b"data: [DONE]\n\n")
                    return
                data = json.dumps(_completion(server.reply)).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def log_message(self, *args: Any) -> None:
                pass

        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()
        self.url = f"http://127.0.0.1:{self.httpd.server_address[1]}/v1"

    def close(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()


def _chunk(text: str) -> dict[str, Any]:
    choice = {"index": 0, "delta": {"role": "assistant", "content": text}, "finish_reason": None}
    return {"id": "c1", "object": "chat.completion.chunk", "created": 0, "model": "fake", "choices": [choice]}


def _completion(text: str) -> dict[str, Any]:
    choice = {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}
    usage = {"prompt_tokens": 1, "completion_tokens": 1, "total_tokens": 2}
    return {"id": "c1", "object": "chat.completion", "created": 0, "model": "fake", "choices": [choice], "usage": usage}
