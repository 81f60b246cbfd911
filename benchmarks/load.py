"""Load test on loopback: concurrent chat sessions with follow-ups, checking errors, latency and history leaks.

Each session is its own gradio_client Client (its own server-side conversation) and asks its questions through the
page's own "/chat" endpoint, follow-ups included. A leak is a session whose transcript holds a question it did not
ask, or whose answers differ from the same conversation replayed alone on the same index (answers are
deterministic, so any history mixed in from another session, or a race, shows up as a difference).

    python benchmarks/load.py                       # 20 sessions x 25 questions against a server it starts
    python benchmarks/load.py --url http://127.0.0.1:7860 --sessions 5 --questions 10
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"

TOPICS = [  # (question, follow-up); vague follow-ups make each answer depend on its own conversation
    ["Which country is sending a brigade to Lithuania?", "When will it be fully ready?"],
    ["Why can't Ukraine join NATO?", "Tell me more about that."],
    ["Tell me about the German brigade in Lithuania.", "How many vehicles will it have?"],
    ["Who is the German defense minister?", "What else did he say?"],
    ["Which Russian exclave borders Lithuania?", "And what about its other neighbours?"],
]


@dataclass
class SessionResult:
    asked: list[str] = field(default_factory=list)
    latencies_ms: list[float] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    leaked: bool = False


def session_questions(index: int, questions: int) -> list[str]:
    """Session `index`'s questions: topic pairs (question, follow-up), each tagged with the session number."""
    return [f"{TOPICS[(index + k // 2) % len(TOPICS)][k % 2]} (session {index}, turn {k})" for k in range(questions)]


def expected_answers(bot: object, index: int, questions: int) -> list[str]:
    """The chat bubbles the session should get: its conversation replayed alone."""
    from ui.page.app import format_answer

    history: list[tuple[str, str]] = []
    out = []
    for question in session_questions(index, questions):
        answer = bot.answer(question, history)  # type: ignore[attr-defined]
        history.append((answer.question, answer.text))
        out.append(format_answer(answer))
    return out


def run_session(url: str, index: int, questions: int, expected: list[str] | None) -> SessionResult:
    """Ask the session's questions through "/chat" and check its transcript (and answers, if expected is given)."""
    from gradio_client import Client

    client = Client(url, verbose=False)
    result = SessionResult()
    chat: list[dict[str, str]] = []
    for question in session_questions(index, questions):
        started = time.perf_counter()
        try:
            chat = client.predict(question, chat, api_name="/chat")[0]
        except Exception as exc:  # noqa: BLE001 - every failure counts as an error in the report
            result.errors.append(f"{type(exc).__name__}: {exc}")
            continue
        result.latencies_ms.append((time.perf_counter() - started) * 1000)
        result.asked.append(question)
    users = [_text(m["content"]) for m in chat if m.get("role") == "user"]
    replies = [_text(m["content"]) for m in chat if m.get("role") == "assistant"]
    foreign = any(f"session {index}," not in u.replace("\\", "") for u in users) or len(users) != len(result.asked)
    result.leaked = foreign or (expected is not None and not result.errors and replies != expected)
    return result


def _text(content: object) -> str:
    """A chat message's text (Gradio 6 may return a list of content parts)."""
    if isinstance(content, list):
        return " ".join(_text(part.get("text", "") if isinstance(part, dict) else part) for part in content)
    return str(content)


def start_server() -> tuple[str, object, object]:
    """A server over a copy of seeds/ on a free loopback port."""
    import shutil
    import socket

    from bot import Bot, Settings
    from index.pipeline import index_paths
    from ui.serve_cli import launch

    base = Path(tempfile.mkdtemp(prefix="citebot-load-"))
    shutil.copytree(ROOT / "seeds", base / "docs")
    settings = Settings.from_env({}, index_dir=base / "index", docs_dir=base / "docs")
    index_paths([base / "docs"], settings)
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    bot = Bot.load(settings=settings)
    app = launch(bot, host="127.0.0.1", port=port, block=False, settings=settings)
    return f"http://127.0.0.1:{port}", app, bot


def run(url: str, sessions: int, questions: int, bot: object | None = None) -> dict[str, float]:
    """Run the sessions concurrently and summarise; with `bot`, answers are compared with a replay alone."""
    expected = [expected_answers(bot, i, questions) if bot else None for i in range(sessions)]
    with ThreadPoolExecutor(max_workers=sessions) as pool:
        results = list(pool.map(lambda i: run_session(url, i, questions, expected[i]), range(sessions)))
    latencies = sorted(ms for r in results for ms in r.latencies_ms)
    return {
        "sessions": sessions,
        "questions": sessions * questions,
        "errors": sum(len(r.errors) for r in results),
        "leaks": sum(r.leaked for r in results),
        "p50_ms": statistics.median(latencies) if latencies else 0.0,
        "p95_ms": latencies[int(0.95 * (len(latencies) - 1))] if latencies else 0.0,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--url", help="a running citebot server (default: start one over seeds/)")
    parser.add_argument("--sessions", type=int, default=20)
    parser.add_argument("--questions", type=int, default=25)
    args = parser.parse_args()
    app = bot = None
    url = args.url
    if url is None:
        url, app, bot = start_server()
    started = time.perf_counter()
    summary = run(url, args.sessions, args.questions, bot)
    summary["wall_s"] = time.perf_counter() - started
    for key, value in summary.items():
        print(f"{key:>10}: {value:.1f}" if isinstance(value, float) else f"{key:>10}: {value}")
    if app is not None:
        app.close()  # type: ignore[attr-defined]
    return 0 if summary["errors"] == 0 and summary["leaks"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
