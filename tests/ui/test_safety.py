"""Server safety: odd questions over HTTP, file routes, hostile documents, concurrent sessions, no outbound traffic."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
import textwrap
import time
import urllib.request
from pathlib import Path
from urllib.error import HTTPError, URLError

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[2]
ODD = ["", " \t ", "\x00", "?!", "x" * 100_000, "木星？", "🪐 NATO? 🚀", "Why can't\x07 Ukraine join NATO?"]


@pytest.mark.parametrize("question", ODD)
def test_odd_questions_over_http_answer_or_say_why(client, question: str) -> None:  # type: ignore[no-untyped-def]
    try:
        data = client.predict(question, [], api_name="/ask")
    except Exception as exc:  # gradio_client raises AppError carrying our message
        assert "The question is empty" in str(exc) and "Traceback" not in str(exc)
    else:
        assert isinstance(data["refused"], bool) and len(data["question"]) <= 2000


def _get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, response.read()
    except HTTPError as exc:
        return exc.code, b""
    except URLError:
        return 0, b""


@pytest.mark.parametrize(
    "path",
    ["/gradio_api/file=/etc/passwd", "/file=/etc/passwd", "/gradio_api/file=../../../../etc/passwd",
     "/gradio_api/file={seeds}/germany-lithuania-brigade.txt", "/gradio_api/file={root}/pyproject.toml"],
)  # fmt: skip
def test_no_files_are_served_from_outside_the_app(server: str, path: str) -> None:
    status, body = _get(server + path.format(seeds=ROOT / "seeds", root=ROOT))
    assert status in (403, 404) and b"root:" not in body and b"Germany" not in body


def test_hostile_document_is_quoted_not_obeyed(client) -> None:  # type: ignore[no-untyped-def]
    data = client.predict("When does the castle gate open?", [], api_name="/ask")
    assert (
        data["answer"].startswith("The castle gate opens at dawn.") and data["citations"][0]["source"] == "hostile.md"
    )


def test_load_short_form_no_errors_no_leaks(served) -> None:  # type: ignore[no-untyped-def]
    spec = importlib.util.spec_from_file_location("load", ROOT / "benchmarks" / "load.py")
    assert spec and spec.loader
    load = importlib.util.module_from_spec(spec)
    sys.modules["load"] = load  # dataclasses look their module up there
    spec.loader.exec_module(load)
    url, bot = served
    summary = load.run(url, sessions=4, questions=6, bot=bot)
    assert summary["questions"] == 24 and summary["errors"] == 0 and summary["leaks"] == 0


WATCH = textwrap.dedent(
    """
    import socket, sys
    log = open(sys.argv[1], "a", encoding="utf-8")
    LOCAL = ("127.0.0.1", "::1", "localhost", "0.0.0.0")

    def hook(event, args):
        if event == "socket.connect" and isinstance(args[1], tuple) and args[1][0] not in LOCAL:
            log.write(f"connect {args[1]}\\n"); log.flush()
        if event == "socket.getaddrinfo" and args[0] not in LOCAL and args[0] is not None:
            log.write(f"lookup {args[0]}\\n"); log.flush()

    sys.addaudithook(hook)
    from ui.cli import main
    sys.exit(main(sys.argv[2:]))
    """
)


def test_the_server_opens_no_outbound_connection(tmp_path: Path) -> None:
    import socket

    from gradio_client import Client, handle_file

    log = tmp_path / "outbound.log"
    log.write_text("", encoding="utf-8")
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = int(s.getsockname()[1])
    import shutil

    from bot import Settings
    from index.pipeline import index_paths

    shutil.copytree(ROOT / "seeds", tmp_path / "docs")  # uploads land beside the indexed documents: not in the repo
    index_paths([tmp_path / "docs"], Settings.from_env({}, index_dir=tmp_path / "ix"))
    env = {k: v for k, v in os.environ.items() if k != "GRADIO_ANALYTICS_ENABLED"}
    argv = ["serve", "--index-dir", str(tmp_path / "ix"), "--port", str(port)]
    proc = subprocess.Popen([sys.executable, "-c", WATCH, str(log), *argv], cwd=ROOT, env=env)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            if proc.poll() is not None or _get(url)[0] == 200:
                break
            time.sleep(0.5)
        client = Client(url, verbose=False)
        assert "territorial integrity" in client.predict("Why can't Ukraine join NATO?", [], api_name="/ask")["answer"]
        (tmp_path / "note.txt").write_text("Owls hunt at night.", encoding="utf-8")
        client.predict([handle_file(str(tmp_path / "note.txt"))], api_name="/upload")
    finally:
        proc.terminate()
        proc.wait(timeout=30)
    assert log.read_text(encoding="utf-8") == ""
    assert (tmp_path / "docs" / "uploads" / "note.txt").exists()
