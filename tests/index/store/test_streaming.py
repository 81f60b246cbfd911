"""Indexing holds one batch of text at a time: files are hashed first and parsed when their batch is written."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import HashingEmbedder, hashing_settings, write_docs

import index.documents.loader
import index.store.build
from index.errors import NoDocuments
from index.pipeline import index_paths

DOCS = {
    f"doc{i:02d}.txt": f"Document {i} talks about topic {i}. It has a second sentence about item {i}."
    for i in range(12)
}


def test_files_are_parsed_a_batch_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    parsed: list[str] = []
    written: list[int] = []  # how many files had been parsed when each segment was written
    real_load, real_write = index.documents.loader.load_file, index.store.build.write_segment
    monkeypatch.setattr(
        index.documents.loader, "load_file", lambda path, source: parsed.append(source) or real_load(path, source)
    )
    monkeypatch.setattr(
        index.store.build, "write_segment", lambda *a, **k: written.append(len(parsed)) or real_write(*a, **k)
    )
    monkeypatch.setattr(index.store.build, "BATCH_CHUNKS", 2)
    report, _ = index_paths([docs], hashing_settings(tmp_path / "ix"), embedder=HashingEmbedder())
    assert report.added == sorted(DOCS) and sorted(parsed) == sorted(DOCS)
    assert len(written) >= 4 and written[0] < len(DOCS), "the first batch is written before the last file is read"


def test_an_unreadable_new_file_is_skipped_and_an_update_of_only_it_writes_nothing(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    settings = hashing_settings(tmp_path / "ix")
    (docs / "broken.pdf").write_bytes(b"%PDF-1.4 not really a pdf")
    report, skipped = index_paths([docs], settings, embedder=HashingEmbedder())
    assert report.added == sorted(DOCS) and [s.source for s in skipped] == ["broken.pdf"]
    version = (settings.index_dir / "CURRENT").read_text()
    report, skipped = index_paths([docs], settings, embedder=HashingEmbedder())
    assert report.added == [] and report.unchanged == sorted(DOCS) and [s.source for s in skipped] == ["broken.pdf"]
    assert (settings.index_dir / "CURRENT").read_text() == version, "nothing readable changed: nothing written"


def test_a_changed_file_that_became_unreadable_is_removed(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", {"a.txt": "Alpha text here.", "b.md": "# B\n\nBeta text here."})
    settings = hashing_settings(tmp_path / "ix")
    index_paths([docs], settings, embedder=HashingEmbedder())
    (docs / "b.md").write_bytes(b"   \n")  # no text any more
    report, skipped = index_paths([docs], settings, embedder=HashingEmbedder())
    assert report.removed == ["b.md"] and report.changed == [] and [s.source for s in skipped] == ["b.md"]


def test_a_folder_of_unreadable_files_says_so(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "empty.txt").write_text("   ", encoding="utf-8")
    with pytest.raises(NoDocuments, match=r"No readable .* under .*docs"):
        index_paths([docs], hashing_settings(tmp_path / "ix"), embedder=HashingEmbedder())
    assert not (tmp_path / "ix" / "CURRENT").exists()


def test_an_update_parses_no_unchanged_segments_meta(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """meta.json holds per-document lists (large at 1M): a one-file update reads none of the existing segments'."""
    import index.store.segments

    docs = write_docs(tmp_path / "docs", DOCS)
    settings = hashing_settings(tmp_path / "ix")
    monkeypatch.setattr(index.store.build, "BATCH_CHUNKS", 4)
    index_paths([docs], settings, embedder=HashingEmbedder())
    read: list[str] = []
    real = index.store.segments.Segment.meta.func  # type: ignore[attr-defined]
    monkeypatch.setattr(index.store.segments.Segment, "meta", property(lambda s: read.append(s.name) or real(s)))
    (docs / "new.txt").write_text("A new document about owls at night.", encoding="utf-8")
    report, _ = index_paths([docs], settings, embedder=HashingEmbedder())
    assert report.added == ["new.txt"] and read == []
