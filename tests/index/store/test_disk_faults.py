"""A full disk or a read-only index folder, for real (a small tmpfs): one clear line, nothing left, nothing lost.

Each test mounts a 2 MB tmpfs (tests/disks.py; skipped where mounting is not permitted) and fills it with documents,
or leaves it a chosen free space with a filler file so that the pre-write check passes and a write itself fails.
"""

from __future__ import annotations

import errno
import gc
import json
import shutil
from pathlib import Path

import pytest
from disks import disk_bytes, fill, leftovers, remount, write_big_docs
from fakes import HashingEmbedder, hashing_settings, write_docs

from bot.config import Settings
from index.diskspace import cannot_write, segment_bytes
from index.errors import DiskFull, ReadOnly
from index.pipeline import index_paths
from index.store.reading import CURRENT, read_manifest
from ui.cli import main

QUESTION = "Which planet is the largest in the solar system?"


@pytest.fixture
def hash_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """The CLI indexes and answers with the fast hashed-words embedder (index/embedding/hash_embed.py)."""
    monkeypatch.setenv("CITEBOT_EMBED_MODEL", "hash")


def cli(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run `citebot *argv`; (exit code, stdout, stderr)."""
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def ask(capsys: pytest.CaptureFixture[str], index_dir: Path) -> tuple[str, list[tuple[str, int, int]]]:
    """The answer to QUESTION from `citebot ask --json`, and its citations (source, start, end)."""
    code, out, err = cli(capsys, "ask", QUESTION, "--json", "--index-dir", str(index_dir))
    assert code == 0, err
    data = json.loads(out)
    return data["answer"], [(c["source"], c["start"], c["end"]) for c in data["citations"]]


def one_error_line(err: str, *words: str) -> None:
    """`err` is the one line `citebot: error: ...` naming each of `words`, and no traceback."""
    assert err.startswith("citebot: error: ") and err.count("\n") == 1 and "Traceback" not in err, err
    assert all(w in err for w in words), err


def segments(index_dir: Path) -> list[str]:
    folder = index_dir / "segments"
    return sorted(p.name for p in folder.iterdir()) if folder.exists() else []


def sizes(docs: Path, scratch: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, int]:
    """(the check's estimate, the bytes taken) of indexing `docs` alone: a free space between the two passes the
    check before the write and fails in the write itself."""
    assert cli(capsys, "index", str(docs), "-q", "--index-dir", str(scratch))[0] == 0
    (meta,) = scratch.glob("segments/*/meta.json")
    counts = json.loads(meta.read_text(encoding="utf-8"))
    text = sum(p.stat().st_size for p in docs.rglob("*.txt"))
    return segment_bytes(text, counts["chunks"], counts["sentences"], dim=384), disk_bytes(scratch)


def test_a_fresh_build_too_large_for_the_disk_is_refused_before_writing(
    small_disk: Path, tmp_path: Path, hash_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = write_big_docs(tmp_path / "docs", files=120)
    index_dir = small_disk / "ix"
    code, _, err = cli(capsys, "index", str(docs), "--index-dir", str(index_dir))
    assert code == 1
    one_error_line(err, str(index_dir), "out of space", "B needed", "B free", "--index-dir")
    assert leftovers(index_dir) == [] and segments(index_dir) == [] and not (index_dir / CURRENT).exists()


def test_a_fresh_build_that_fills_the_disk_midway_removes_what_it_wrote(
    small_disk: Path, tmp_path: Path, hash_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    docs = write_big_docs(tmp_path / "docs", files=6)
    estimate, taken = sizes(docs, tmp_path / "scratch", capsys)
    leave = (estimate + taken) // 2
    assert estimate + 8192 < leave < taken - 8192, (estimate, taken)
    fill(small_disk, leave=leave)
    index_dir = small_disk / "ix"
    with pytest.raises(DiskFull, match="out of space for the index") as failed:
        index_paths([docs], Settings.from_env({}, index_dir=index_dir, embed_model="hash"))
    assert isinstance(failed.value.__cause__, OSError | RuntimeError)  # a write failed: not the check before it
    del failed
    gc.collect()
    assert leftovers(index_dir) == [] and segments(index_dir) == [] and not (index_dir / CURRENT).exists()
    assert shutil.disk_usage(small_disk).free >= leave - 16384  # what it wrote is gone at once


@pytest.mark.parametrize("when", ["before", "midway"])
def test_an_update_that_fills_the_disk_keeps_the_previous_version(
    small_disk: Path, docs_dir: Path, tmp_path: Path, hash_model: None, capsys: pytest.CaptureFixture[str], when: str
) -> None:
    """Too many new documents for the disk: refused before writing, or failing in the write; the next run works."""
    index_dir = small_disk / "ix"
    assert cli(capsys, "index", str(docs_dir), "-q", "--index-dir", str(index_dir))[0] == 0
    before, kept = ask(capsys, index_dir), segments(index_dir)
    new = write_big_docs(tmp_path / "new", files=120 if when == "before" else 6)
    filler = None
    if when == "midway":
        estimate, taken = sizes(new, tmp_path / "scratch", capsys)
        filler = fill(small_disk, leave=(estimate + taken) // 2)
    shutil.copytree(new, docs_dir / "new")
    code, _, err = cli(capsys, "index", str(docs_dir), "-q", "--index-dir", str(index_dir))
    assert code == 1
    one_error_line(err, str(index_dir), "out of space", "B needed", "nothing was changed")
    assert leftovers(index_dir) == [] and segments(index_dir) == kept
    assert ask(capsys, index_dir) == before
    if filler:
        filler.unlink()
    else:
        remount(small_disk, "size=8m")
    assert cli(capsys, "index", str(docs_dir), "-q", "--index-dir", str(index_dir))[0] == 0


def test_a_merge_that_would_fill_the_disk_is_refused_and_the_new_segment_removed(
    small_disk: Path, docs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Two segments merge (FACTOR 2): the new documents' segment fits, the merge does not."""
    import index.store.merging
    from bot import Bot

    monkeypatch.setattr(index.store.merging, "FACTOR", 2)
    settings = hashing_settings(small_disk / "ix")
    index_paths([docs_dir], settings, embedder=HashingEmbedder())
    kept = segments(settings.index_dir)
    base = disk_bytes(settings.index_dir / "segments" / kept[0])
    owls = "Owls hunt at night with silent feathers. Their ears are set at different heights."
    (docs_dir / "owls.txt").write_text(owls, encoding="utf-8")
    scratch = tmp_path / "scratch"
    (scratch / "docs").mkdir(parents=True)
    shutil.copy(docs_dir / "owls.txt", scratch / "docs")
    index_paths([scratch / "docs"], hashing_settings(scratch / "ix"), embedder=HashingEmbedder())
    new = disk_bytes(scratch / "ix" / "segments")
    bot = Bot.load(settings.index_dir, embedder=HashingEmbedder())
    before = bot.answer(QUESTION)
    fill(small_disk, leave=new + (base + new) // 2)
    with pytest.raises(DiskFull, match="a merge of segments"):
        index_paths([docs_dir], settings, embedder=HashingEmbedder())
    assert leftovers(settings.index_dir) == [] and segments(settings.index_dir) == kept
    after = Bot.load(settings.index_dir, embedder=HashingEmbedder()).answer(QUESTION)
    assert (after.text, after.citations) == (before.text, before.citations)
    (small_disk / "filler").unlink()
    assert index_paths([docs_dir], settings, embedder=HashingEmbedder())[0].added == ["owls.txt"]
    assert len(read_manifest(settings.index_dir)[1]["segments"]) == 1  # merged


def test_a_read_only_index_answers_and_index_says_it_is_read_only(
    small_disk: Path, docs_dir: Path, hash_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    index_dir = small_disk / "ix"
    assert cli(capsys, "index", str(docs_dir), "-q", "--index-dir", str(index_dir))[0] == 0
    before = ask(capsys, index_dir)
    remount(small_disk, "ro")
    (docs_dir / "owls.txt").write_text("Owls hunt at night with silent feathers.", encoding="utf-8")
    for argv in (["index", str(docs_dir)], ["index", str(docs_dir), "--rebuild"]):
        code, out, err = cli(capsys, *argv, "--index-dir", str(index_dir))
        assert code == 1 and out == ""
        one_error_line(err, str(index_dir), "is read-only", "remount it read-write", "--index-dir")
    assert ask(capsys, index_dir) == before


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["full", "read-only"])
def test_the_onnx_export_into_a_stuck_cache_warns_once_and_torch_answers(
    small_disk: Path, caplog: pytest.LogCaptureFixture, fault: str
) -> None:
    """The query model's ONNX export (about the model's weights, 90 MB) cannot go into the cache: torch answers."""
    import logging

    from bot.config import EMBED_MODEL
    from index.embedding.onnx_embed import OnnxEmbedder
    from index.embedding.query_embed import make_query_embedder, resolve

    if fault == "read-only":
        remount(small_disk, "ro")
    with caplog.at_level(logging.WARNING, logger="index.embedding.query_embed"):
        embedder = resolve(make_query_embedder(EMBED_MODEL, cache_dir=small_disk))
    assert not isinstance(embedder, OnnxEmbedder) and len(embedder.get_query_embedding("Why?")) == 384
    [record] = caplog.records
    words = ["out of space for the ONNX query model", "MB needed"] if fault == "full" else ["is read-only"]
    assert "answering with torch" in record.getMessage() and all(w in record.getMessage() for w in words)
    assert leftovers(small_disk) == []


def test_a_respec_that_fills_the_disk_keeps_the_previous_version(
    small_disk: Path, docs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """An update takes the index past FLAT_MAX_N (lowered here): its merged segment is rewritten with an IVF index
    (index/store/respec.py) after the new documents' segment, and the disk has room for that segment alone."""
    import index.store.build as store
    import index.store.merging
    from bot import Bot

    for name, value in (("BATCH_CHUNKS", 1), ("IVF_MIN", 2), ("FLAT_MAX_N", 1000), ("ivf_spec", lambda n: "IVF1,SQ8")):
        monkeypatch.setattr(store, name, value)
    monkeypatch.setattr(index.store.merging, "FACTOR", 2)
    settings = hashing_settings(small_disk / "ix")
    index_paths([docs_dir], settings, embedder=HashingEmbedder())
    kept = segments(settings.index_dir)
    before = Bot.load(settings.index_dir, embedder=HashingEmbedder()).answer(QUESTION)
    monkeypatch.setattr(store, "FLAT_MAX_N", 0)
    monkeypatch.setattr(index.store.merging, "FACTOR", 100)
    saturn = write_docs(tmp_path / "scratch" / "docs", {"new.txt": "Saturn has rings of ice."}) / "new.txt"
    index_paths([saturn.parent], hashing_settings(tmp_path / "scratch" / "ix"), embedder=HashingEmbedder())
    shutil.copy(saturn, docs_dir / "new.txt")
    filler = fill(small_disk, leave=disk_bytes(tmp_path / "scratch" / "ix" / "segments") + 4096)
    with pytest.raises(DiskFull, match="out of space for the index") as failed:
        index_paths([docs_dir], settings, embedder=HashingEmbedder())
    assert isinstance(failed.value.__cause__, OSError | RuntimeError)  # the rewrite failed in its writes
    assert leftovers(settings.index_dir) == [] and segments(settings.index_dir) == kept
    after = Bot.load(settings.index_dir, embedder=HashingEmbedder()).answer(QUESTION)
    assert (after.text, after.citations) == (before.text, before.citations)
    filler.unlink()
    assert index_paths([docs_dir], settings, embedder=HashingEmbedder())[0].added == ["new.txt"]


def test_a_disk_too_full_for_the_lock_file_says_so(
    small_disk: Path, docs_dir: Path, hash_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    fill(small_disk, leave=0)
    index_dir = small_disk / "ix"
    code, _, err = cli(capsys, "index", str(docs_dir), "--index-dir", str(index_dir))
    assert code == 1
    one_error_line(err, str(index_dir), "out of space for the index", "free some space there")


@pytest.mark.parametrize(
    "exc,kind,words",
    [
        (OSError(errno.EACCES, "Permission denied"), ReadOnly, ["is not writable", "give write permission on it"]),
        (OSError(errno.EROFS, "Read-only file system"), ReadOnly, ["is read-only", "remount it read-write"]),
        (OSError(errno.EDQUOT, "Disk quota exceeded"), DiskFull, ["is over its disk quota", "about 2.0 MB needed"]),
        (OSError("276864 requested and 78816 written"), DiskFull, ["is out of space", "about 2.0 MB needed"]),
        (RuntimeError("write error in x.faiss: 4051 != 153600 (No space left on device)"), DiskFull, ["out of space"]),
    ],
)
def test_each_kind_of_refused_write_gets_its_message(
    tmp_path: Path, exc: BaseException, kind: type[Exception], words: list[str]
) -> None:
    error = cannot_write(exc, tmp_path, what="the index", needed=2 * 2**20, other="index elsewhere")
    assert isinstance(error, kind) and all(w in str(error) for w in words), error
    assert str(error).startswith(f"{tmp_path} is ") and str(error).endswith("or index elsewhere; nothing was changed")


def test_other_failures_are_left_as_they_are(tmp_path: Path) -> None:
    for exc in (OSError(errno.ENOENT, "No such file"), ValueError("No space left on device"), OSError("bad")):
        assert cannot_write(exc, tmp_path, what="the index") is None
