"""The whole retrieval in Milvus (Milvus Lite here): build, answer, update under a reader, nothing read locally."""

from __future__ import annotations

import json
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from fakes import HashingEmbedder, hashing_settings

from bot import Bot, Settings
from bot.library import Library
from index.access import load_index
from index.pipeline import index_config, index_paths

pytest.importorskip("pymilvus")


def _settings(tmp_path: Path, **overrides: Any) -> Any:
    return replace(hashing_settings(tmp_path / "ix"), vector_store="milvus", **overrides)


def _remote_only(settings: Any) -> Any:
    """The same Milvus, read by a server whose index folder holds nothing (another machine, say)."""
    return replace(
        settings, index_dir=settings.index_dir.parent / "elsewhere", milvus_uri=index_config(settings).milvus_uri
    )


def test_milvus_holds_text_offsets_vectors_and_bm25(docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder) -> None:
    settings = _settings(tmp_path)
    index_paths([docs_dir], settings, embedder=embedder)
    remote = _remote_only(settings)
    shutil.rmtree(settings.index_dir / "segments")  # the writer's local copy: readers never open it
    stored = load_index(remote.index_dir, remote=index_config(remote))
    assert stored.path.name == "milvus-1" and sorted(stored.manifest["files"]) == sorted(
        ["animals.txt", "cooking.txt", "space/planets.md"]
    )
    for chunk in stored.chunks:
        assert (docs_dir / chunk.source).read_text(encoding="utf-8")[chunk.start : chunk.end] == chunk.text
    (row, _), *_ = stored.lexical.search("Which planet is the largest?", k=3)
    assert "Jupiter" in stored.chunks[row].text
    (near, score), *_ = stored.dense.search(stored.chunk_vectors[row], k=1)
    assert near == row and score == pytest.approx(1.0, abs=1e-4)
    sentences = stored.chunk_sentences[row]
    assert sentences and all(stored.sentences[i].source == "space/planets.md" for i in sentences)
    assert stored.sentences[sentences[0] - 1].source != "space/planets.md"  # a gap before a document's first sentence
    assert stored.vocabulary.size == len(stored.sentences) > 0
    assert stored.find_sentence(stored.sentences[sentences[0]].text) == [sentences[0]]
    assert stored.chunks_of("space/planets.md") == [row] and stored.find_sentence('say "no"') == []
    bot = Bot.load(settings=remote, embedder=HashingEmbedder())
    first = bot.answer("Which planet is the largest in the solar system?")
    assert "Jupiter" in first.text
    follow = bot.answer("And what storm does it have?", [(first.question, first)])
    assert "red spot" in follow.text and follow.citations[0].source == "space/planets.md"


def test_a_reader_loaded_before_an_update_follows_it(docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder) -> None:
    settings = _settings(tmp_path)
    index_paths([docs_dir], settings, embedder=embedder)
    readers = [Bot.load(settings=_remote_only(settings), embedder=HashingEmbedder()) for _ in range(2)]
    old = readers[0].stored
    (docs_dir / "owls.txt").write_text("Owls hunt at night with silent feathers.", encoding="utf-8")
    (docs_dir / "cooking.txt").unlink()
    embedder.calls.clear()
    report, _ = index_paths([docs_dir], settings, embedder=embedder)
    assert (report.added, report.removed) == (["owls.txt"], ["cooking.txt"])
    assert embedder.calls and all("Owls" in text for text in embedder.calls), "only the new file is embedded"
    assert old.lexical.search("yeast bread sourdough", k=3), "the old version still reads until its reader moves on"
    for bot in readers:
        assert "silent feathers" in bot.answer("When do owls hunt?").text
        assert bot.stored.path.name == "milvus-2" and "cooking.txt" not in bot.stored.manifest["files"]
        assert all(
            bot.stored.chunks[r].source != "cooking.txt" for r, _ in bot.stored.lexical.search("yeast bread", k=5)
        )
    (docs_dir / "owls.txt").unlink()
    index_paths([docs_dir], settings, embedder=embedder)  # the rows of cooking.txt are deleted now
    assert "owls.txt" not in readers[1].answer("When do owls hunt?").to_dict()["answer"]
    assert not readers[1].stored.lexical.search("yeast bread sourdough", k=3)


def test_unchanged_folder_publishes_nothing_and_rebuild_replaces_every_row(
    docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder
) -> None:
    settings = _settings(tmp_path)
    index_paths([docs_dir], settings, embedder=embedder)
    index_paths([docs_dir], settings, embedder=embedder)
    assert load_index(settings.index_dir, remote=index_config(settings)).path.name == "milvus-1"
    index_paths([docs_dir], settings, embedder=embedder, rebuild=True)
    stored = load_index(settings.index_dir, remote=index_config(settings))
    assert stored.path.name == "milvus-2" and len(list(stored.chunks)) == len(stored.chunks) == 3


def test_a_missing_index_in_milvus_says_what_to_run(tmp_path: Path) -> None:
    from bot.errors import IndexNotFound

    settings = _settings(tmp_path)
    with pytest.raises(IndexNotFound, match="CITEBOT_VECTOR_STORE=milvus"):
        load_index(settings.index_dir, remote=index_config(settings))


@pytest.fixture
def milvus_server(tmp_path: Path) -> Iterator[str]:
    """Milvus Lite as a local server (`python -m milvus_lite server`): several processes share one Milvus."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "milvus_lite", "server", "--data-dir", str(tmp_path / "milvus"), "--host", "127.0.0.1",
         "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)  # fmt: skip
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_servers_in_other_processes_share_one_milvus_and_see_each_update(
    docs_dir: Path, tmp_path: Path, milvus_server: str
) -> None:
    """A writer process, two readers here and a reader process, all on one Milvus server; no reader has an index."""
    env = {**os.environ, "CITEBOT_EMBED_MODEL": "hash", "CITEBOT_VECTOR_STORE": "milvus",
           "CITEBOT_MILVUS_URI": milvus_server}  # fmt: skip
    cli = [sys.executable, "-m", "ui.cli"]

    def run(*args: str, index_dir: Path) -> str:
        done = subprocess.run([*cli, *args, "--index-dir", str(index_dir)], env=env, capture_output=True, text=True)
        assert done.returncode == 0, done.stderr
        return done.stdout

    run("index", str(docs_dir), "-q", index_dir=tmp_path / "writer")
    settings = Settings.from_env(env, index_dir=tmp_path / "reader")
    readers = [Bot.load(settings=settings) for _ in range(2)]
    assert all("Jupiter" in bot.answer("Which planet is the largest in the solar system?").text for bot in readers)
    (docs_dir / "owls.txt").write_text("Owls hunt at night with silent feathers.", encoding="utf-8")
    (docs_dir / "cooking.txt").unlink()
    run("index", str(docs_dir), "-q", index_dir=tmp_path / "writer")
    for bot in readers:
        assert "silent feathers" in bot.answer("When do owls hunt?").text
        assert "cooking.txt" not in {d.name for d in Library(settings, bot=bot).documents()}
    assert "silent feathers" in run("ask", "When do owls hunt?", index_dir=tmp_path / "another")
    assert not (tmp_path / "reader").exists() and not (tmp_path / "another").exists()


def test_a_writer_killed_before_its_state_leaves_readers_on_the_old_one_and_no_stray_rows(
    docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    import index.milvus.sync

    settings = _settings(tmp_path)
    index_paths([docs_dir], settings, embedder=embedder)
    (docs_dir / "owls.txt").write_text("Owls hunt at night with silent feathers.", encoding="utf-8")

    def killed(*_: Any) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr(index.milvus.sync, "write_state", killed)
    with pytest.raises(KeyboardInterrupt):
        index_paths([docs_dir], settings, embedder=embedder)  # its rows are inserted, its state never written
    stored = load_index(settings.index_dir, remote=index_config(settings))
    assert stored.path.name == "milvus-1" and not stored.lexical.search("owls silent feathers", k=3)
    monkeypatch.undo()
    index_paths([docs_dir], settings, embedder=embedder)
    stored = load_index(settings.index_dir, remote=index_config(settings))
    found = stored.lexical.search("owls silent feathers", k=5)
    assert stored.path.name == "milvus-2" and len(found) == 1 and stored.chunks[found[0][0]].source == "owls.txt"
    assert len(list(stored.chunks)) == len(stored.chunks) == 4


@pytest.mark.slow
def test_two_citebot_serve_processes_answer_from_one_milvus_and_follow_an_update(
    docs_dir: Path, tmp_path: Path, milvus_server: str
) -> None:
    """Two real `citebot serve` processes with no index folder of their own; `citebot index` updates; both follow."""
    env = {**os.environ, "CITEBOT_EMBED_MODEL": "hash", "CITEBOT_VECTOR_STORE": "milvus",
           "CITEBOT_MILVUS_URI": milvus_server, "GRADIO_ANALYTICS_ENABLED": "False", "HF_HUB_OFFLINE": "1"}  # fmt: skip
    cli = [sys.executable, "-m", "ui.cli"]
    done = subprocess.run([*cli, "index", str(docs_dir), "-q", "--index-dir", str(tmp_path / "writer")], env=env,
                          capture_output=True, text=True)  # fmt: skip
    assert done.returncode == 0, done.stderr
    ports = []
    servers = []
    for name in ("one", "two"):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            ports.append(s.getsockname()[1])
        argv = [*cli, "serve", "--port", str(ports[-1]), "--index-dir", str(tmp_path / name)]
        servers.append(subprocess.Popen(argv, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True))
    try:

        def ask(port: int, question: str) -> str:
            deadline = time.monotonic() + 120
            while True:
                try:
                    request = urllib.request.Request(
                        f"http://127.0.0.1:{port}/api/ask", data=json.dumps({"question": question}).encode(),
                        headers={"Content-Type": "application/json"})  # fmt: skip
                    with urllib.request.urlopen(request, timeout=60) as response:
                        return str(json.loads(response.read())["answer"])
                except (ConnectionError, urllib.error.URLError):
                    assert time.monotonic() < deadline, "the server did not start"
                    assert all(s.poll() is None for s in servers), [s.stderr.read() for s in servers if s.stderr]
                    time.sleep(0.5)

        for port in ports:
            assert "Jupiter" in ask(port, "Which planet is the largest in the solar system?")
        (docs_dir / "owls.txt").write_text("Owls hunt at night with silent feathers.", encoding="utf-8")
        done = subprocess.run([*cli, "index", str(docs_dir), "-q", "--index-dir", str(tmp_path / "writer")], env=env,
                              capture_output=True, text=True)  # fmt: skip
        assert done.returncode == 0, done.stderr
        for port in ports:
            assert "silent feathers" in ask(port, "When do owls hunt?")
        assert not (tmp_path / "one").exists() and not (tmp_path / "two").exists()
    finally:
        for server in servers:
            server.terminate()
            server.wait(timeout=30)
