"""One writer at a time: a second indexer of the same folder fails at once with a clear message."""

import os
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from fakes import HashingEmbedder, hashing_settings

from bot.errors import IndexBusy
from index.access import load_index
from index.pipeline import index_paths
from index.store.locking import write_lock

ROOT = Path(__file__).resolve().parents[3]
SLOW_WRITER = textwrap.dedent(
    """
    import sys, time
    sys.path[:0] = [{tests!r}, {root!r}]
    from pathlib import Path
    from fakes import HashingEmbedder, hashing_settings
    from index.pipeline import index_paths

    started, go = Path(sys.argv[3]), Path(sys.argv[4])
    embedder = HashingEmbedder()
    real_embed = embedder._get_text_embedding

    def embed(text):  # hold the lock, mid-update, until the test says go
        started.touch()
        while not go.exists():
            time.sleep(0.05)
        return real_embed(text)

    object.__setattr__(embedder, "_get_text_embedding", embed)
    index_paths([Path(sys.argv[1])], hashing_settings(Path(sys.argv[2])), embedder=embedder)
    """
)


@contextmanager
def held_elsewhere(index_dir: Path) -> Iterator[None]:
    """The index's write lock, held by another thread (as another process would hold it) while the block runs."""
    taken, release = threading.Event(), threading.Event()

    def hold() -> None:
        with write_lock(index_dir):
            taken.set()
            release.wait(60)

    holder = threading.Thread(target=hold)
    holder.start()
    assert taken.wait(10)
    try:
        yield
    finally:
        release.set()
        holder.join()


def _wait_for(path: Path, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while not path.exists():
        assert proc.poll() is None, "the first indexer ended before it started embedding"
        assert time.monotonic() < deadline, "the first indexer never started embedding"
        time.sleep(0.05)


def test_second_indexer_of_the_same_folder_fails_at_once(docs_dir: Path, tmp_path: Path) -> None:
    """Two processes index one folder at once: the second (the real CLI) is refused, the first completes."""
    index_dir, started, go = tmp_path / "ix", tmp_path / "started", tmp_path / "go"
    script = tmp_path / "writer.py"
    script.write_text(SLOW_WRITER.format(tests=str(ROOT / "tests"), root=str(ROOT)), encoding="utf-8")
    first = subprocess.Popen([sys.executable, str(script), str(docs_dir), str(index_dir), str(started), str(go)])
    try:
        _wait_for(started, first)
        cli = "from ui.cli import main; raise SystemExit(main())"
        env = {**os.environ, "CITEBOT_EMBED_MODEL": "hash"}
        argv = [sys.executable, "-c", cli, "index", str(docs_dir), "--index-dir", str(index_dir)]
        second = subprocess.run(argv, capture_output=True, text=True, timeout=120, env=env, cwd=ROOT)
        assert second.returncode == 2
        assert f"Another citebot is indexing {index_dir} (pid {first.pid}); wait for it to finish" in second.stderr
        assert "Traceback" not in second.stderr
        go.touch()
        assert first.wait(timeout=120) == 0
    finally:
        go.touch()
        first.kill() if first.poll() is None else None
    stored = load_index(index_dir)
    assert {c.source for c in stored.chunks} == {"animals.txt", "cooking.txt", "space/planets.md"}


def test_the_lock_is_released_after_an_update_and_by_a_failed_one(docs_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    settings = hashing_settings(index_dir)
    with held_elsewhere(index_dir), pytest.raises(IndexBusy, match="wait for it to finish"):
        index_paths([docs_dir], settings, embedder=HashingEmbedder())
    report, _ = index_paths([docs_dir], settings, embedder=HashingEmbedder())
    assert report.added == ["animals.txt", "cooking.txt", "space/planets.md"]
    (docs_dir / "new.txt").write_text("Owls hunt at night.", encoding="utf-8")
    assert index_paths([docs_dir], settings, embedder=HashingEmbedder())[0].added == ["new.txt"]


def test_the_next_writer_removes_a_killed_writers_unfinished_folder(docs_dir: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "ix"
    index_paths([docs_dir], hashing_settings(index_dir), embedder=HashingEmbedder())
    (index_dir / ".tmp-v1-999999").mkdir()  # left by a writer killed mid-write (it held the lock, now released)
    (docs_dir / "new.txt").write_text("Owls hunt at night.", encoding="utf-8")
    index_paths([docs_dir], hashing_settings(index_dir), embedder=HashingEmbedder())
    assert not (index_dir / ".tmp-v1-999999").exists()


def test_an_upload_while_another_citebot_indexes_says_so(tiny_index: Path, tmp_path: Path) -> None:
    from bot import Bot
    from bot.library import Library
    from ui.page.app import _upload

    settings = hashing_settings(tiny_index)
    library = Library(settings, bot=Bot.load(tiny_index, embedder=HashingEmbedder(), settings=settings))
    upload = tmp_path / "owls.txt"
    upload.write_text("Owls hunt at night.", encoding="utf-8")
    with held_elsewhere(tiny_index):
        status = _upload(library)([str(upload)])
    assert "Not indexed yet: Another citebot is indexing" in status and "wait for it to finish" in status
    assert library.sync().added == ["uploads/owls.txt"]  # the file was kept: the next run indexes it


def test_a_removal_while_another_citebot_indexes_deletes_nothing(tiny_index: Path, docs_dir: Path) -> None:
    from bot.library import Library

    library = Library(hashing_settings(tiny_index))
    with held_elsewhere(tiny_index), pytest.raises(IndexBusy, match="wait for it to finish"):
        library.remove("cooking.txt")
    assert (docs_dir / "cooking.txt").exists()
    library.remove("cooking.txt")  # the lock is re-entrant in the removing thread: deleted, then re-indexed
    assert not (docs_dir / "cooking.txt").exists()
    assert "cooking.txt" not in load_index(tiny_index).manifest["files"]


def test_the_lock_is_reentrant_only_in_the_thread_that_holds_it(tmp_path: Path) -> None:
    with write_lock(tmp_path / "ix"), write_lock(tmp_path / "ix"):
        with held_elsewhere(tmp_path / "other"):
            pass
    with write_lock(tmp_path / "ix"):
        errors: list[BaseException] = []

        def other() -> None:
            try:
                with write_lock(tmp_path / "ix"):
                    pass
            except IndexBusy as exc:
                errors.append(exc)

        thread = threading.Thread(target=other)
        thread.start()
        thread.join()
        assert len(errors) == 1
