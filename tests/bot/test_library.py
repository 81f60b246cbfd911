"""Document management: list, add, replace, remove (never cited again), re-sync; `citebot docs` and `citebot rm`."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import HashingEmbedder, hashing_settings

from bot import Bot
from bot.errors import CitebotError, UnknownDocument
from bot.library import Library
from ui.cli import main


@pytest.fixture
def library(tiny_index: Path) -> Library:
    settings = hashing_settings(tiny_index)
    return Library(settings, bot=Bot.load(tiny_index, embedder=HashingEmbedder(), settings=settings))


def _incoming(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def test_lists_every_document_with_type_size_chunks_and_time(library: Library, docs_dir: Path) -> None:
    docs = {d.name: d for d in library.documents()}
    assert sorted(docs) == ["animals.txt", "cooking.txt", "space/planets.md"]
    planets = docs["space/planets.md"]
    assert planets.type == "md" and planets.size == (docs_dir / "space/planets.md").stat().st_size
    assert planets.chunks >= 1 and planets.indexed_at.endswith("Z")


def test_removed_document_is_deleted_and_never_cited_again(library: Library, docs_dir: Path) -> None:
    assert library.bot and library.bot.answer("Why does bread rise?").citations[0].source == "cooking.txt"
    library.remove("cooking.txt")
    assert not (docs_dir / "cooking.txt").exists()
    assert "cooking.txt" not in {d.name for d in library.documents()}
    answer = library.bot.answer("Why does bread rise with yeast?")
    assert all(c.source != "cooking.txt" for c in answer.citations) and "yeast" not in answer.text
    assert all(p.source != "cooking.txt" for p in answer.passages)


def test_unknown_names_and_paths_outside_are_refused(library: Library) -> None:
    for name in ("nope.txt", "../docs/animals.txt", "/etc/passwd"):
        with pytest.raises(UnknownDocument, match="citebot docs"):
            library.remove(name)


def test_the_last_document_cannot_be_removed(library: Library) -> None:
    library.remove("cooking.txt")
    library.remove("animals.txt")
    with pytest.raises(CitebotError, match="only document"):
        library.remove("space/planets.md")


def test_uploading_the_same_name_replaces_the_document(library: Library, docs_dir: Path, tmp_path: Path) -> None:
    new = _incoming(tmp_path, "cooking.txt", "Pasta is boiled in salted water for ten minutes.")
    report = library.add([(new, "cooking.txt")])
    assert report.replaced == ["cooking.txt"] and report.saved == [] and not (docs_dir / "uploads").exists()
    assert library.bot and "salted water" in library.bot.answer("How is pasta boiled?").text
    assert "yeast" not in library.bot.answer("Why does bread rise with yeast?").text
    other = library.add([(_incoming(tmp_path, "owls.txt", "Owls hunt at night."), "owls.txt")])
    assert other.saved == ["uploads/owls.txt"]
    bad = library.add([(_incoming(tmp_path, "x.exe", "MZ"), "x.exe")])
    assert bad.rejected and "unsupported type" in bad.rejected[0]


def test_sync_picks_up_changes_made_outside(library: Library, docs_dir: Path) -> None:
    (docs_dir / "animals.txt").unlink()
    (docs_dir / "owls.txt").write_text("Owls hunt at night.", encoding="utf-8")
    report = library.sync()
    assert report.added == ["owls.txt"] and report.removed == ["animals.txt"]
    assert library.bot and library.bot.answer("When do owls hunt?").citations[0].source == "owls.txt"


def test_cli_docs_and_rm(
    tiny_index: Path, docs_dir: Path, hashing_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    ix = ["--index-dir", str(tiny_index)]
    assert main(["docs", *ix]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split() == ["name", "type", "size", "chunks", "indexed", "at"] and len(table) == 4
    assert table[1].startswith("animals.txt") and " txt " in table[1]
    assert main(["rm", "cooking.txt", *ix]) == 0
    assert "Removed cooking.txt" in capsys.readouterr().out and not (docs_dir / "cooking.txt").exists()
    assert main(["docs", "--json", *ix]) == 0
    assert [d["name"] for d in json.loads(capsys.readouterr().out)] == ["animals.txt", "space/planets.md"]
    assert main(["rm", "cooking.txt", *ix]) == 2
    assert "No indexed document named 'cooking.txt'" in capsys.readouterr().err


def test_watch_picks_up_a_file_added_before_the_folders_are_watched(library: Library, docs_dir: Path) -> None:
    """`serve --watch` loads the index, then starts watching: a file added in between is indexed all the same."""
    import threading

    from bot.library import watch

    (docs_dir / "owls.txt").write_text("Owls hunt at night.", encoding="utf-8")  # the index and bot are loaded
    stop, synced = threading.Event(), threading.Event()
    thread = threading.Thread(target=watch, args=(library, stop), kwargs={"on_sync": lambda r: synced.set()})
    thread.start()
    try:
        synced.wait(timeout=20)
        assert "owls.txt" in {d.name for d in library.documents()}, "a file added before watching was never indexed"
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()


def test_watch_picks_up_added_changed_and_deleted_files(library: Library, docs_dir: Path) -> None:
    import threading
    import time

    from bot.library import watch

    stop, synced = threading.Event(), threading.Event()
    thread = threading.Thread(target=watch, args=(library, stop), kwargs={"on_sync": lambda r: synced.set()})
    thread.start()

    def until(check: object) -> None:
        deadline = time.monotonic() + 20
        while not check() and time.monotonic() < deadline:  # type: ignore[operator]
            time.sleep(0.1)
        assert check(), "the watcher did not pick the change up"  # type: ignore[operator]

    def names() -> set[str]:
        return {d.name for d in library.documents()}

    try:
        (docs_dir / "owls.txt").write_text("Owls hunt at night.", encoding="utf-8")
        until(lambda: "owls.txt" in names())
        assert library.bot and library.bot.answer("When do owls hunt?").citations[0].source == "owls.txt"
        (docs_dir / "owls.txt").write_text("Owls sleep in the day and hunt mice.", encoding="utf-8")
        until(lambda: library.bot and "mice" in library.bot.answer("What do owls hunt?").text)
        (docs_dir / "cooking.txt").unlink()
        until(lambda: "cooking.txt" not in names())
        (docs_dir / "notes.csv").write_text("ignored", encoding="utf-8")
        assert synced.is_set()
    finally:
        stop.set()
        thread.join(timeout=10)
    assert not thread.is_alive()
