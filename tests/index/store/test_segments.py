"""Segments: an index built file by file (merging as it goes, deleting by tombstones) retrieves exactly what one built
in one go does, and an update writes only the changed file's segment."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from conftest import DOCS, ROOT
from fakes import HashingEmbedder, hashing_settings, write_docs

import index.store.merging
from bot import Bot
from index.access import load_index
from index.pipeline import index_paths
from index.search.lexical import top_rows
from index.store import StoredIndex
from index.store.merging import level, plan

QUESTIONS = [
    "Which planet is the largest in the solar system?",
    "Why do cats sleep?",
    "Why does bread rise?",
    "Who were the Normans?",
    "When did the Normans conquer England?",
    "What is the capital of Normandy?",
    "red planet iron oxide",
]


def _corpus() -> dict[str, str]:
    """The test documents and a dozen SQuAD paragraphs, one file each."""
    data = json.loads((ROOT / "data" / "squad2-dev-sample.json").read_text(encoding="utf-8"))
    paragraphs = [p["context"] for a in data["data"][:2] for p in a["paragraphs"]][:12]
    return {**DOCS, **{f"squad/p{i:02d}.txt": text for i, text in enumerate(paragraphs)}}


def _retrieval(stored: StoredIndex) -> list[object]:
    """Everything retrieval returns for QUESTIONS, by source and offset (rows differ between indexes)."""

    def where(row: int) -> tuple[str, int]:
        return stored.chunks[row].source, stored.chunks[row].start

    out: list[object] = []
    for q in QUESTIONS:
        vector = np.asarray(HashingEmbedder().get_query_embedding(q), dtype=np.float32)
        out.append([(where(r), s) for r, s in stored.lexical.search(q, k=10)])
        out.append([(where(r), s) for r, s in stored.dense.search(vector, k=10)])
    return out


def _answers(index_dir: Path) -> list[object]:
    bot = Bot.load(index_dir, embedder=HashingEmbedder())
    return [(a.text, [(c.source, c.start, c.end) for c in a.citations]) for a in map(bot.answer, QUESTIONS)]


def test_built_file_by_file_retrieves_exactly_as_built_in_one_go(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    corpus = _corpus()
    whole = write_docs(tmp_path / "whole", corpus)
    index_paths([whole], hashing_settings(tmp_path / "ix1"), embedder=HashingEmbedder())
    monkeypatch.setattr(index.store.merging, "FACTOR", 3)  # merge often: every 3 segments of a level
    growing = tmp_path / "growing"
    growing.mkdir()
    for name in sorted(corpus, key=lambda n: n.split("/")):  # the loader's order: folder by folder
        write_docs(growing, {name: corpus[name]})
        index_paths([growing], hashing_settings(tmp_path / "ix2"), embedder=HashingEmbedder())
    one, many = load_index(tmp_path / "ix1"), load_index(tmp_path / "ix2")
    assert len(one.manifest["segments"]) == 1 and many.manifest["segments"][0]["name"].startswith("m")  # merged
    assert [(c.source, c.start, c.text) for c in one.chunks] == [(c.source, c.start, c.text) for c in many.chunks]
    assert _retrieval(one) == _retrieval(many)
    assert _answers(tmp_path / "ix1") == _answers(tmp_path / "ix2")


def test_deleted_files_retrieve_as_if_never_indexed(tmp_path: Path) -> None:
    corpus = _corpus()
    gone = ["cooking.txt", "squad/p03.txt", "squad/p07.txt"]
    docs = write_docs(tmp_path / "docs", corpus)
    index_paths([docs], hashing_settings(tmp_path / "ix1"), embedder=HashingEmbedder())
    for name in gone:
        (docs / name).unlink()
    embedder = HashingEmbedder()
    report, _ = index_paths([docs], hashing_settings(tmp_path / "ix1"), embedder=embedder)
    assert report.removed == gone and embedder.calls == []
    fresh = write_docs(tmp_path / "fresh", {k: v for k, v in corpus.items() if k not in gone})
    index_paths([fresh], hashing_settings(tmp_path / "ix2"), embedder=HashingEmbedder())
    after, clean = load_index(tmp_path / "ix1"), load_index(tmp_path / "ix2")
    assert after.manifest["segments"][0]["dead"], "deleted by a tombstone, not rewritten"
    assert list(after.vocabulary.counts.items()) and after.vocabulary.counts == clean.vocabulary.counts
    assert after.vocabulary.size == clean.vocabulary.size
    assert _retrieval(after) == _retrieval(clean)
    assert _answers(tmp_path / "ix1") == _answers(tmp_path / "ix2")
    assert dict(after.chunk_counts) == dict(clean.chunk_counts) and set(after.manifest["files"]) == set(
        clean.manifest["files"]
    )
    sentences = list(after.sentences)
    for s in [*sentences[::3], replace(sentences[0], text="Not a sentence of the index.")]:
        assert after.find_sentence(s.text) == [i for i, t in enumerate(sentences) if t.text == s.text]
    for source in ["animals.txt", "squad/p04.txt", "cooking.txt"]:
        assert after.chunks_of(source) == [i for i, c in enumerate(after.chunks) if c.source == source]


def test_merging_a_segment_with_deletions_drops_them_exactly(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    corpus = _corpus()
    docs = write_docs(tmp_path / "docs", corpus)
    index_paths([docs], hashing_settings(tmp_path / "ix1"), embedder=HashingEmbedder())
    (docs / "squad/p05.txt").unlink()
    index_paths([docs], hashing_settings(tmp_path / "ix1"), embedder=HashingEmbedder())
    monkeypatch.setattr(index.store.merging, "FACTOR", 2)
    owls = {"zz/owls.txt": "Owls hunt at night with silent feathers. Mars has two moons."}
    write_docs(docs, owls)
    index_paths([docs], hashing_settings(tmp_path / "ix1"), embedder=HashingEmbedder())
    merged = load_index(tmp_path / "ix1")
    assert [e["dead"] for e in merged.manifest["segments"]] == [[]] and merged.manifest["segments"][0]["name"][0] == "m"
    rest = {k: v for k, v in corpus.items() if k != "squad/p05.txt"} | owls
    index_paths([write_docs(tmp_path / "fresh", rest)], hashing_settings(tmp_path / "ix2"), embedder=HashingEmbedder())
    clean = load_index(tmp_path / "ix2")
    assert (merged.vocabulary.counts, merged.vocabulary.size) == (clean.vocabulary.counts, clean.vocabulary.size)
    assert [list(m) for m in merged.chunk_sentences] == [list(m) for m in clean.chunk_sentences]
    assert _retrieval(merged) == _retrieval(clean)
    assert _answers(tmp_path / "ix1") == _answers(tmp_path / "ix2")


def test_a_changed_file_is_rewritten_alone_and_old_versions_are_collected(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", _corpus())
    index_dir = tmp_path / "ix"
    index_paths([docs], hashing_settings(index_dir), embedder=HashingEmbedder())
    first = load_index(index_dir)
    (docs / "cooking.txt").write_text("Pasta cooks in ten minutes in boiling salted water.", encoding="utf-8")
    embedder = HashingEmbedder()
    report, _ = index_paths([docs], hashing_settings(index_dir), embedder=embedder)
    assert report.changed == ["cooking.txt"] and all("Cats" not in t for t in embedder.calls)
    second = load_index(index_dir)
    new = second.manifest["segments"][-1]["name"]
    assert [e["name"] for e in second.manifest["segments"]] == [first.manifest["segments"][0]["name"], new]
    assert json.loads((index_dir / "segments" / new / "meta.json").read_text())["sources"] == ["cooking.txt"]
    assert [c.text for c in second.chunks if c.source == "cooking.txt"] == [(docs / "cooking.txt").read_text()]
    (docs / "new.txt").write_text("Owls hunt at night.", encoding="utf-8")
    index_paths([docs], hashing_settings(index_dir), embedder=HashingEmbedder())
    assert not (index_dir / first.path.name).exists(), "a version two updates old is deleted"
    assert (index_dir / second.path.name).exists(), "the one before the live one is kept for its readers"
    assert len(list((index_dir / "segments").iterdir())) == 3


def test_a_reader_of_a_collected_version_loads_the_live_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A reader that read CURRENT just before two updates finds its segments gone and loads the live version."""
    import index.store.reading as store

    docs = write_docs(tmp_path / "docs", DOCS)
    index_dir = tmp_path / "ix"
    index_paths([docs], hashing_settings(index_dir), embedder=HashingEmbedder())
    stale = store.read_manifest(index_dir)
    for i in range(3):
        (docs / f"n{i}.txt").write_text(f"Owls number {i} hunt at night.", encoding="utf-8")
        index_paths([docs], hashing_settings(index_dir), embedder=HashingEmbedder(), rebuild=i == 0)
    assert not stale[0].exists()
    real = store.read_manifest
    calls: list[int] = []

    def stale_first(d: Path):  # type: ignore[no-untyped-def]
        calls.append(1)
        return stale if len(calls) == 1 else real(d)

    monkeypatch.setattr(store, "read_manifest", stale_first)
    loaded = load_index(index_dir)
    assert len(calls) == 2 and "n2.txt" in loaded.manifest["files"]


def test_merge_policy_keeps_few_segments() -> None:
    assert level(3) == level(7_999) == 0 and level(16_384) == 1 and level(131_072) == 2
    assert plan([100_000] + [10] * 8, [0] * 9) == list(range(1, 9))
    assert plan([100_000] + [10] * 7, [0] * 8) is None
    assert plan([10, 10], [0, 30]) == [1]
    sizes: list[int] = []
    for _ in range(500):  # one small file at a time
        sizes.append(5)
        while (run := plan(sizes, [0] * len(sizes))) is not None:
            sizes[run[0] : run[-1] + 1] = [sum(sizes[i] for i in run)]
    assert sum(sizes) == 2500 and len(sizes) <= 8


def test_top_rows_matches_a_full_stable_sort() -> None:
    rng = np.random.default_rng(0)
    total = rng.integers(0, 4, size=500).astype(np.float32)
    hits = np.flatnonzero(total)
    full = [(int(r), float(total[r])) for r in hits[np.argsort(-total[hits], kind="stable")[:7]]]
    assert top_rows(total, 7) == full


def test_an_update_reads_only_files_whose_size_or_mtime_changed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import os

    import index.documents.loader

    docs = write_docs(tmp_path / "docs", DOCS)
    settings = hashing_settings(tmp_path / "ix")
    index_paths([docs], settings, embedder=HashingEmbedder())
    read: list[str] = []
    real = index.documents.loader.load_file
    monkeypatch.setattr(
        index.documents.loader, "load_file", lambda path, source: read.append(source) or real(path, source)
    )
    cooking = docs / "cooking.txt"
    before = cooking.stat().st_mtime_ns
    cooking.write_text(
        cooking.read_text(encoding="utf-8").replace("wild yeast.", "wild yeast!"), encoding="utf-8"
    )  # same size
    os.utime(cooking, ns=(before + 10**9, before + 10**9))
    report, _ = index_paths([docs], settings, embedder=HashingEmbedder())
    assert read == ["cooking.txt"] and report.changed == ["cooking.txt"] and len(report.unchanged) == 2
    read.clear()
    assert index_paths([docs], settings, embedder=HashingEmbedder())[0].unchanged == sorted(DOCS)
    assert read == []
    index_paths([docs], settings, embedder=HashingEmbedder(), rebuild=True)
    assert sorted(read) == sorted(DOCS)


def test_exact_search_from_codes_matches_the_flat_index(tmp_path: Path) -> None:
    import faiss

    from index.embedding.hash_embed import hash_vector
    from index.search.vectorstores import ExactSearch
    from index.store.segments import write_faiss

    rng = np.random.default_rng(0)
    words = [f"w{i}" for i in range(400)]
    vectors = np.array([hash_vector(" ".join(rng.choice(words, 30))) for _ in range(3000)], dtype=np.float32)
    vectors[7] = vectors[8]  # a tie
    write_faiss(tmp_path / "chunks.faiss", vectors, spec="Flat")
    search, flat = ExactSearch(tmp_path / "chunks.faiss", tmp_path / "chunks-sq8.faiss"), faiss.IndexFlatIP(384)
    flat.add(vectors)
    for i in range(40):
        query = vectors[i] if i < 10 else np.array(hash_vector(" ".join(rng.choice(words, 5))), dtype=np.float32)
        scores, rows = flat.search(query.reshape(1, -1), 20)
        assert search.search(query, k=20) == [(int(r), float(s)) for r, s in zip(rows[0], scores[0], strict=True)]
    assert search.fallbacks < 10, "the codes prove most answers"


def test_a_segment_whose_files_are_all_deleted_is_dropped(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    settings = hashing_settings(tmp_path / "ix")
    index_paths([docs], settings, embedder=HashingEmbedder())
    write_docs(docs, {"owls.txt": "Owls hunt at night with silent feathers."})
    index_paths([docs], settings, embedder=HashingEmbedder())
    assert len(load_index(tmp_path / "ix").manifest["segments"]) == 2
    (docs / "owls.txt").unlink()
    index_paths([docs], settings, embedder=HashingEmbedder())
    stored = load_index(tmp_path / "ix")
    assert len(stored.manifest["segments"]) == 1 and "owls.txt" not in stored.manifest["files"]
    assert "Jupiter" in Bot.load(tmp_path / "ix", embedder=HashingEmbedder()).answer("Which planet is largest?").text


def test_a_new_version_reopens_only_its_new_segments(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    settings = hashing_settings(tmp_path / "ix")
    index_paths([docs], settings, embedder=HashingEmbedder())
    first = load_index(tmp_path / "ix")
    write_docs(docs, {"owls.txt": "Owls hunt at night with silent feathers."})
    index_paths([docs], settings, embedder=HashingEmbedder())
    second = load_index(tmp_path / "ix")
    old, new = second.layout.segments  # type: ignore[union-attr]
    assert old is first.layout.segments[0] and new.sources == ["owls.txt"]  # type: ignore[union-attr]
