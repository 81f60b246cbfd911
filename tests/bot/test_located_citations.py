"""Citations carry the page (PDFs) and a location label, in Python, `--json` and the terminal output."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from fakes import HashingEmbedder, hashing_settings, write_docs
from pdfs import make_pdf

from bot import Bot
from bot.citations import with_locations
from bot.types import Citation
from index.documents.loader import load_file
from index.pipeline import index_paths
from ui.cli import main


@pytest.fixture
def located_index(tmp_path: Path) -> Path:
    docs = write_docs(
        tmp_path / "docs", {"guide.md": "# Guide\n\n## Installation\n\n### Linux\n\nRun apt to install.\n"}
    )
    make_pdf(docs / "report.pdf")
    settings = hashing_settings(tmp_path / "index")
    index_paths([docs], settings, embedder=HashingEmbedder())
    return settings.index_dir


def _bot(index_dir: Path) -> Bot:
    return Bot.load(index_dir, embedder=HashingEmbedder(), settings=hashing_settings(index_dir))


def test_pdf_citation_has_its_page_and_the_offsets_invariant(located_index: Path, tmp_path: Path) -> None:
    answer = _bot(located_index).answer("When was the new lens installed?")
    first = answer.citations[0]
    assert (first.source, first.page, first.location) == ("report.pdf", 2, "p. 2")
    text = load_file(tmp_path / "docs" / "report.pdf", "report.pdf").text
    assert text[first.start : first.end] == first.quote == "The new lens was installed in March."


def test_markdown_citation_has_its_heading_path(located_index: Path) -> None:
    first = _bot(located_index).answer("How do I install on Linux with apt?").citations[0]
    assert (first.source, first.page, first.location) == ("guide.md", None, "Guide › Installation › Linux")


def test_a_quote_across_a_page_break_is_located_on_both_pages(tmp_path: Path) -> None:
    doc = load_file(make_pdf(tmp_path / "report.pdf"), "report.pdf")
    a, b = doc.text.index("Keepers logged"), doc.text.index("by name.") + len("by name.")
    quote = Citation(1, "report.pdf", doc.text[a:b], a, b, 0.5)
    [located] = with_locations([quote], {"report.pdf": doc.locations})
    assert (located.page, located.location) == (2, "p. 2-3") and doc.text[a:b] == located.quote
    assert with_locations([quote], {}) == [quote], "unknown documents keep page and location None"


def test_an_answer_quoting_a_sentence_wrapped_across_pages_cites_both(located_index: Path, tmp_path: Path) -> None:
    answer = _bot(located_index).answer("Did the keepers log every passing ship by name?")
    first = answer.citations[0]
    assert first.quote.startswith("Keepers logged") and first.quote.endswith("every passing ship by name.")
    assert (first.page, first.location) == (2, "p. 2-3")
    text = load_file(tmp_path / "docs" / "report.pdf", "report.pdf").text
    assert text[first.start : first.end] == first.quote


def test_json_and_terminal_show_page_and_location(
    located_index: Path, hashing_model: None, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["ask", "When was the new lens installed?", "--json", "--index-dir", str(located_index)]) == 0
    first = json.loads(capsys.readouterr().out)["citations"][0]
    assert (first["page"], first["location"]) == (2, "p. 2")
    assert main(["ask", "When was the new lens installed?", "--index-dir", str(located_index)]) == 0
    assert "[1] report.pdf p. 2 (" in capsys.readouterr().out


def test_locations_are_found_without_meta_json_and_in_segments_written_before_locations_json(
    located_index: Path, tmp_path: Path
) -> None:
    write_docs(tmp_path / "docs", {"guide.md": "# Guide\n\n## Setup\n\n### Linux\n\nRun apt to install.\n"})
    index_paths([tmp_path / "docs"], hashing_settings(located_index), embedder=HashingEmbedder())  # old copy deleted
    segments = sorted((located_index / "segments").iterdir())
    assert len(segments) == 2 and all((s / "locations.json").exists() for s in segments)
    asked = ["When was the new lens installed?", "How do I install on Linux with apt?"]
    want = [("report.pdf", 2, "p. 2"), ("guide.md", None, "Guide › Setup › Linux")]
    got = [_bot(located_index).answer(q).citations[0] for q in asked]
    assert [(c.source, c.page, c.location) for c in got] == want
    for segment in segments:  # as an index written before locations.json: meta.json's are read
        (segment / "locations.json").unlink()
    got = [_bot(located_index).answer(q).citations[0] for q in asked]
    assert [(c.source, c.page, c.location) for c in got] == want
