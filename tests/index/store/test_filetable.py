"""The update's scan: one listing and stat per file compared against the segments' file tables
(index/store/filetable.py), so a changed, added or deleted file is found and no unchanged file is read, with or without
the tables."""

from __future__ import annotations

import os
import random
from pathlib import Path

import numpy as np
import pytest
from conftest import DOCS
from fakes import HashingEmbedder, hashing_settings, write_docs

import index.documents.loader
from index.access import load_index
from index.documents.loader import SUFFIXES, scan_files
from index.pipeline import index_paths
from index.store.filetable import FILES_FILE, SOURCES_FILE, LiveFiles, align, read_files, write_table


def _walk(root: Path) -> list[str]:
    """The sources os.walk found before the scan existed (its order is the order documents are indexed in)."""
    out = []
    for folder, dirs, files in os.walk(root, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        prefix = os.path.relpath(folder, root).replace(os.sep, "/") + "/" if folder != str(root) else ""
        out += [prefix + n for n in sorted(files) if os.path.splitext(n)[1].lower() in SUFFIXES and n[0] != "."]
    return out


def test_the_scan_lists_what_os_walk_did_in_its_order(tmp_path: Path) -> None:
    names = ["b.txt", "a.MD", "z/1.txt", "z/y/2.html", "a/x.pdf", "a/notes.csv", "A.htm", ".hidden.txt",
             ".git/c.txt", "folder.txt/inner.txt", "ÿ/é.txt", "b/c/d/e.docx"]  # fmt: skip
    for name in names:
        write_docs(tmp_path / "docs", {name: "Some text."})
    (tmp_path / "docs" / "elsewhere").symlink_to(tmp_path / "docs" / "z")  # a symlinked folder is not followed
    (tmp_path / "docs" / "link.txt").symlink_to(tmp_path / "docs" / "b.txt")  # a symlinked file is
    (tmp_path / "docs" / "gone.txt").symlink_to(tmp_path / "nowhere.txt")  # a broken one is skipped with a reason
    scan = scan_files([tmp_path / "docs"])
    assert scan.sources == [s for s in _walk(tmp_path / "docs") if s != "gone.txt"]
    assert [s.source for s in scan.skipped] == ["gone.txt"] and "No such file" in scan.skipped[0].reason
    assert str(tmp_path / "docs" / "gone.txt") in scan.skipped[0].reason, "the reason names the file's path"
    assert "folder.txt/inner.txt" in scan.sources and "link.txt" in scan.sources
    st = os.stat(tmp_path / "docs" / "z" / "1.txt")
    at = scan.sources.index("z/1.txt")
    assert (scan.sizes[at], scan.mtimes[at], scan.paths[at]) == (
        st.st_size,
        st.st_mtime_ns,
        str(tmp_path / "docs/z/1.txt"),
    )
    assert scan_files([tmp_path / "docs" / "b.txt"]).sources == ["b.txt"]


def test_a_file_table_round_trips_and_an_older_segment_is_read_from_its_json(tmp_path: Path) -> None:
    sources, stats, sha = ["a.txt", "ü/b c.md"], [(10, 1_700_000_000_123_456_789), (0, 5)], ["ab" * 32, "0f" * 32]
    write_table(tmp_path, sources, stats, sha)
    names, table = read_files(tmp_path)
    assert names == sources and table[:, :2].tolist() == [list(s) for s in stats]
    assert [table[i, 2:].astype("<i8").tobytes().hex() for i in range(2)] == sha
    write_table(tmp_path, [], [], [])
    assert read_files(tmp_path)[0] == [] and read_files(tmp_path)[1].shape == (0, 6)


def _reads(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    read: list[str] = []
    real = index.documents.loader.load_file
    monkeypatch.setattr(
        index.documents.loader, "load_file", lambda path, source: read.append(source) or real(path, source)
    )
    return read


def _hashed(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Names of the files whose bytes are hashed (new or changed size or mtime), in order."""
    hashed: list[str] = []
    real = index.documents.loader.file_sha256
    monkeypatch.setattr(
        index.documents.loader, "file_sha256", lambda path: hashed.append(Path(path).name) or real(path)
    )
    return hashed


@pytest.mark.parametrize("tables", [True, False], ids=["tables", "older index without tables"])
def test_an_update_finds_changed_added_and_deleted_files_and_reads_only_those(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, tables: bool
) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    settings = hashing_settings(tmp_path / "ix")
    index_paths([docs], settings, embedder=HashingEmbedder())
    if not tables:  # as an index written before the tables: its segments have only meta.json
        for segment in (tmp_path / "ix" / "segments").iterdir():
            (segment / SOURCES_FILE).unlink()
            (segment / FILES_FILE).unlink()
    read = _reads(monkeypatch)
    cooking = docs / "cooking.txt"
    before = cooking.stat().st_mtime_ns
    cooking.write_text(cooking.read_text(encoding="utf-8").replace("wild", "tame"), encoding="utf-8")  # same size
    os.utime(cooking, ns=(before + 10**9, before + 10**9))
    (docs / "animals.txt").unlink()
    write_docs(docs, {"owls/barn.txt": "Owls hunt at night with silent feathers."})
    report, _ = index_paths([docs], settings, embedder=HashingEmbedder())
    assert sorted(read) == ["cooking.txt", "owls/barn.txt"], "an unchanged file was read"
    assert (report.added, report.changed, report.removed) == (["owls/barn.txt"], ["cooking.txt"], ["animals.txt"])
    assert report.unchanged == ["space/planets.md"]
    stored = load_index(tmp_path / "ix")
    assert set(stored.manifest["files"]) == {"cooking.txt", "owls/barn.txt", "space/planets.md"}
    assert "tame yeast" in stored.chunks[stored.chunks_of("cooking.txt")[0]].text
    read.clear()
    again, _ = index_paths([docs], settings, embedder=HashingEmbedder())
    assert read == [] and again.unchanged == ["cooking.txt", "owls/barn.txt", "space/planets.md"]


def test_a_touched_file_with_the_same_bytes_is_hashed_but_not_parsed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    settings = hashing_settings(tmp_path / "ix")
    index_paths([docs], settings, embedder=HashingEmbedder())
    version = (tmp_path / "ix" / "CURRENT").read_text()
    st = (docs / "animals.txt").stat()
    os.utime(docs / "animals.txt", ns=(st.st_atime_ns, st.st_mtime_ns + 10**9))
    read, hashed = _reads(monkeypatch), _hashed(monkeypatch)
    report, _ = index_paths([docs], settings, embedder=HashingEmbedder())
    assert hashed == ["animals.txt"] and read == [] and report.unchanged == sorted(DOCS) and report.embedded == 0
    assert (tmp_path / "ix" / "CURRENT").read_text() == version, "nothing changed, so nothing was written"


def _edited(known: list[str], rng: random.Random, edits: int) -> list[str]:
    """`known` after `edits` random additions, deletions, block moves and swaps: a folder's scan against its index."""
    names = list(known)
    for n in range(edits):
        kind, at = rng.randrange(4), rng.randrange(len(names) + 1)
        if kind == 0:
            names.insert(at, f"new/{n}.txt")
        elif kind == 1 and names:
            del names[at % len(names)]
        elif kind == 2 and names:
            block = names[at : at + rng.randrange(1, 200)]
            del names[at : at + len(block)]
            spot = rng.randrange(len(names) + 1)
            names[spot:spot] = block
        elif names:
            a, b = at % len(names), rng.randrange(len(names))
            names[a], names[b] = names[b], names[a]
    return names


@pytest.mark.parametrize("seed", range(60))
def test_align_finds_each_name_where_a_dict_of_the_index_does(seed: int) -> None:
    rng = random.Random(seed)
    known = [f"c{i // 500:02d}/doc{i:06d}.txt" for i in range(rng.choice([0, 1, 5, 300, 4000]))]
    names = _edited(known, rng, rng.choice([0, 1, 2, 10, 100]))
    if seed % 10 == 9:  # no order in common: the aligner gives up and the dict finds them all
        rng.shuffle(names)
    where = dict(zip(known, range(len(known)), strict=True))
    expected = [where.get(n, -1) for n in names]
    assert align(names, known).tolist() == expected
    assert align(known, names).tolist() == [dict(zip(names, range(len(names)), strict=True)).get(n, -1) for n in known]
    live = LiveFiles(known, [], np.zeros(0), np.zeros(0), np.zeros((len(known), 6)))
    assert live.rows_of(names[:3]).tolist() == expected[:3] and live.rows_of(names).tolist() == expected


def test_align_examples() -> None:
    assert align(["new", "a", "b", "c", "moved"], ["a", "b", "moved", "c", "gone"]).tolist() == [-1, 0, 1, 3, 2]
    assert align([], ["a"]).tolist() == [] and align(["a"], []).tolist() == [-1]


def test_an_update_after_renames_and_moves_finds_them_and_reads_nothing_else(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    docs = write_docs(tmp_path / "docs", {f"d{i % 3}/f{i:03d}.txt": f"Text number {i}." for i in range(60)})
    settings = hashing_settings(tmp_path / "ix")
    index_paths([docs], settings, embedder=HashingEmbedder())
    (docs / "d1" / "f010.txt").write_text("Changed, so indexed again into a segment of its own.", encoding="utf-8")
    index_paths([docs], settings, embedder=HashingEmbedder())  # the index now holds its files in another order
    (docs / "d0" / "f003.txt").rename(docs / "d2" / "f003.txt")
    (docs / "d1" / "f004.txt").rename(docs / "d1" / "renamed.txt")
    (docs / "d2").rename(docs / "a2")
    read = _reads(monkeypatch)
    report, _ = index_paths([docs], settings, embedder=HashingEmbedder())
    moved = sorted(f"a2/f{i:03d}.txt" for i in [3, *range(2, 60, 3)])
    assert sorted(read) == sorted([*moved, "d1/renamed.txt"])
    assert report.added == sorted([*moved, "d1/renamed.txt"]) and report.changed == []
    assert report.removed == sorted(["d0/f003.txt", "d1/f004.txt", *(f"d2/f{i:03d}.txt" for i in range(2, 60, 3))])
    assert len(report.unchanged) == 60 - 1 - len(moved)
