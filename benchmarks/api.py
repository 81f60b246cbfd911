"""The HTTP API's cost over answering in-process, measured side by side in one run on the seed questions.

Per question, interleaved, best of 3: `bot.answer()` in-process; POST /api/ask with httpx (one kept-alive connection);
POST /v1/chat/completions with the official openai client, not streamed and streamed (time to the last chunk).

    python benchmarks/api.py
"""

from __future__ import annotations

import socket
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from common import ROOT, median, percentile, seed_questions  # noqa: I001

from bot import Bot, Settings
from index.pipeline import index_paths


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def best_ms(call: Callable[[], object], rounds: int = 3) -> float:
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    return min(times)


def main() -> int:
    import httpx
    from openai import OpenAI

    from ui.serve_cli import launch

    with tempfile.TemporaryDirectory(prefix="citebot-api-") as tmp:
        settings = Settings.from_env({}, index_dir=Path(tmp) / "index")
        index_paths([ROOT / "seeds"], settings)
        bot = Bot.load(settings=settings)
        app = launch(bot, host="127.0.0.1", port=free_port(), block=False, settings=settings)
        url = f"http://127.0.0.1:{app.server_port}"
        http, client = httpx.Client(base_url=url, timeout=30), OpenAI(base_url=f"{url}/v1", api_key="-")
        ways: dict[str, Callable[[str], object]] = {
            "bot.answer()": bot.answer,
            "POST /api/ask": lambda q: http.post("/api/ask", json={"question": q}).json(),
            "openai, not streamed": lambda q: client.chat.completions.create(
                model="citebot", messages=[{"role": "user", "content": q}]),
            "openai, streamed": lambda q: list(client.chat.completions.create(
                model="citebot", messages=[{"role": "user", "content": q}], stream=True)),
        }  # fmt: skip
        questions = seed_questions()
        for q in questions[:3]:  # warm up every path
            for way in ways.values():
                way(q)
        times: dict[str, list[float]] = {name: [] for name in ways}
        for q in questions:
            for name, way in ways.items():
                times[name].append(best_ms(lambda way=way, q=q: way(q)))  # type: ignore[misc]
        app.close()
    base = median(times["bot.answer()"])
    print(f"{len(questions)} seed questions, best of 3 each\n")
    print(f"{'path':<24}{'p50 ms':>10}{'p95 ms':>10}{'p50 ratio':>11}")
    for name, ms in times.items():
        print(f"{name:<24}{median(ms):>10.1f}{percentile(ms, 95):>10.1f}{median(ms) / base:>10.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
