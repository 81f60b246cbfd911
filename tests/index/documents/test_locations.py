"""Locations: PDF page starts and heading paths recorded at load time; pages and labels of a passage."""

from __future__ import annotations

import io
from pathlib import Path

from pdfs import REPORT, make_pdf

from index.documents.loader import load_documents, load_file
from index.documents.locations import (
    Locations,
    find_in_order,
    heading_paths,
    locate,
    markdown_headings,
    page_starts,
)

PAGES = Locations(pages=(0, 100, 250))
SECTIONS = Locations(headings=((10, "Install"), (50, "Install › Linux"), (90, "Usage")))


def test_page_starts_follow_the_separator() -> None:
    assert page_starts(["ab", "cde", "f"]) == (0, 4, 9)
    assert page_starts([]) == (0,)


def test_locate_pages_and_pages_crossed() -> None:
    assert locate(PAGES, 0, 10) == (1, "p. 1")
    assert locate(PAGES, 100, 120) == (2, "p. 2")
    assert locate(PAGES, 90, 100) == (1, "p. 1"), "the end offset is exclusive"
    assert locate(PAGES, 90, 101) == (1, "p. 1-2")
    assert locate(PAGES, 90, 300) == (1, "p. 1-3")


def test_locate_headings_and_nothing() -> None:
    assert locate(SECTIONS, 0, 5) == (None, None), "before the first heading"
    assert locate(SECTIONS, 60, 70) == (None, "Install › Linux")
    assert locate(SECTIONS, 95, 99) == (None, "Usage")
    assert locate(Locations(), 0, 5) == (None, None)
    assert Locations.from_json(SECTIONS.to_json()) == SECTIONS and not Locations()


def test_heading_paths_nest_by_level() -> None:
    heads = [(0, 1, "A"), (5, 2, "B"), (9, 3, "C"), (12, 2, "D"), (20, 1, "E")]
    assert heading_paths(heads) == ((0, "A"), (5, "A › B"), (9, "A › B › C"), (12, "A › D"), (20, "E"))


def test_markdown_headings_skip_code_fences() -> None:
    text = "# Guide\nIntro.\n## Installation\n```\n# not a heading\n```\n### Linux ##\nRun it.\n"
    heads = markdown_headings(text)
    assert [(lvl, t) for _, lvl, t in heads] == [(1, "Guide"), (2, "Installation"), (3, "Linux")]
    assert all(text[o:].lstrip("#").strip().startswith(t) for o, _, t in heads)
    setext = "Guide\n=====\n\nInstall\n-------\nRun it.\n\n- a list item\n\n---\n"
    assert markdown_headings(setext) == [(0, 1, "Guide"), (13, 2, "Install")], "a rule after a blank line is no heading"


def test_find_in_order_searches_after_the_previous_title() -> None:
    assert find_in_order("Intro\nA\nB", [(1, "A"), (2, "B")]) == [(6, 1, "A"), (8, 2, "B")]
    assert find_in_order("B A", [(1, "A"), (1, "B"), (1, "Z")]) == [(2, 1, "A")]


def test_pdf_pages_are_recorded_where_they_start(tmp_path: Path) -> None:
    doc = load_file(make_pdf(tmp_path / "report.pdf"), "report.pdf")
    starts = doc.locations.pages
    assert len(starts) == 3 and starts[0] == 0
    for page, lines in enumerate(REPORT):
        assert doc.text[starts[page] :].startswith(lines[0]), f"page {page + 1} starts with its first line"
    at = doc.text.index("The new lens")
    assert locate(doc.locations, at, at + 12) == (2, "p. 2")
    a, b = doc.text.index("Keepers logged"), doc.text.index("by name.") + len("by name.")
    assert locate(doc.locations, a, b) == (2, "p. 2-3"), "a quote crossing the page break"


def test_markdown_html_and_docx_record_heading_paths(tmp_path: Path) -> None:
    import docx

    (tmp_path / "guide.md").write_text("# Guide\n\n## Installation\n\n### Linux\n\nRun apt.\n", encoding="utf-8")
    (tmp_path / "page.html").write_text(
        "<h1>Guide</h1><p>Intro</p><h2>Installation</h2><h3>Linux</h3><p>Run apt.</p>", encoding="utf-8"
    )
    word = docx.Document()
    word.add_heading("Guide", level=1)
    word.add_paragraph("Intro")
    word.add_heading("Installation", level=2)
    word.add_heading("Linux", level=3)
    word.add_paragraph("Run apt.")
    buf = io.BytesIO()
    word.save(buf)
    (tmp_path / "guide.docx").write_bytes(buf.getvalue())
    docs, skipped = load_documents([tmp_path])
    assert skipped == [] and len(docs) == 3
    for doc in docs:
        at = doc.text.index("Run apt.")
        assert locate(doc.locations, at, at + 8) == (None, "Guide › Installation › Linux"), doc.source
        at = doc.text.index("Intro") if "Intro" in doc.text else 0
        assert locate(doc.locations, at, at + 1)[1] in ("Guide", "Guide › Installation"), doc.source
