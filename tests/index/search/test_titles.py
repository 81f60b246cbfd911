"""Title terms kept with each segment: the documents a question names, found as a pass over every file name finds
them, with deleted documents left out and in segments written before the tables existed."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from conftest import DOCS
from fakes import HashingEmbedder, hashing_settings, write_docs

from bot.question.titles import Titles
from index.access import load_index
from index.pipeline import index_paths
from index.search.lexical import terms
from index.search.titles import DOCS_FILE, INDPTR_FILE, TERMS_FILE, TitleIndex, TitleTable

NAMES = {
    "The_Grapes_of_Wrath.txt": "The Joads travel west.",
    "Grape_varieties.txt": "Wine grapes grow in many places.",
    "running/runs-and-running.txt": "Two words, one stem.",
    "annual_report.txt": "The annual report.",
    **{f"report-{i}.txt": f"Report number {i}." for i in range(5)},
}
ASKED = ["grapes of wrath", "grape varieties and the grapes of wrath", "runs", "annual report", "report"]


def _named(titles: Titles) -> list[list[str]]:
    return [titles.named(terms(q), limit=5) for q in ASKED]


def test_a_table_lists_each_document_once_per_distinct_word() -> None:
    table = TitleTable.build(["runs-and-running.txt", "run.md"])
    assert table.docs_of("run").tolist() == [0, 0, 1]
    index = TitleIndex([table], [["runs-and-running.txt", "run.md"]], [[]])
    assert (index.count("run"), index.df("run"), index.df("nothing")) == (3, 2, 0)


def test_an_index_names_what_a_pass_over_its_file_names_names(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    docs = write_docs(tmp_path / "docs", {**DOCS, **NAMES})
    settings = hashing_settings(tmp_path / "ix")
    index_paths([docs], settings, embedder=HashingEmbedder())
    write_docs(docs, {"Grape_varieties.txt": "Changed: red and white grapes."})  # the old copy deleted, a new segment
    (docs / "report-3.txt").unlink()
    index_paths([docs], settings, embedder=HashingEmbedder())
    stored = load_index(tmp_path / "ix")
    files = stored.manifest["files"]
    kept, listed = Titles(files), Titles(list(files))
    assert isinstance(getattr(files, "titles", None), TitleIndex) and len(stored.manifest["segments"]) == 2
    assert _named(kept) == _named(listed) and "Grape_varieties.txt" in _named(kept)[1]
    assert list(kept.sources) == list(files) and len(kept.sources) == len(files)
    for segment in (tmp_path / "ix" / "segments").iterdir():  # as an index written before the tables
        for name in (TERMS_FILE, INDPTR_FILE, DOCS_FILE):
            (segment / name).unlink()
    del stored, files, kept
    gc.collect()  # the segments opened again, without their tables
    built: list[int] = []
    monkeypatch.setattr(TitleTable, "build", lambda sources, real=TitleTable.build: built.append(1) or real(sources))
    older = load_index(tmp_path / "ix")
    assert _named(Titles(older.manifest["files"])) == _named(listed) and len(built) == 2
    write_docs(docs, {"new.txt": "A new file."})
    index_paths([docs], settings, embedder=HashingEmbedder())  # the next update writes the missing tables
    assert all((segment / TERMS_FILE).exists() for segment in (tmp_path / "ix" / "segments").iterdir())
