from pathlib import Path

import pytest

from index.documents.chunking import split_sentences, split_text

SEED = (Path(__file__).resolve().parents[3] / "seeds" / "germany-lithuania-brigade.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize("size,overlap", [(64, 10), (128, 32), (200, 40), (512, 0)])
def test_every_chunk_is_the_source_slice(size: int, overlap: int) -> None:
    chunks = split_text("seed.txt", SEED, size=size, overlap=overlap)
    assert chunks, "no chunks"
    for chunk in chunks:
        assert SEED[chunk.start : chunk.end] == chunk.text
    assert chunks[0].start == 0 and chunks[-1].end == len(SEED.rstrip())


def test_chunks_overlap_and_cover_the_text() -> None:
    chunks = split_text("seed.txt", SEED, size=64, overlap=16)
    assert len(chunks) > 3
    for before, after in zip(chunks, chunks[1:], strict=False):
        assert SEED[before.end : after.start].strip() == "", "a gap between chunks loses text"


def test_chunk_offsets_survive_irregular_whitespace() -> None:
    text = "First  line here.\n\n\n   Second\tline   with   tabs.  " * 30
    for chunk in split_text("x", text, size=40, overlap=8):
        assert text[chunk.start : chunk.end] == chunk.text


def test_wrapped_lines_stay_one_sentence_and_headings_stay_apart() -> None:
    text = "Keepers logged\n  every passing ship by name, and\nthe weather.\nInstallation\nRun the installer."
    text += "\nNext.\n\nup\n\n\nand on"
    assert [s.text for s in split_sentences("a", text)] == [
        "Keepers logged\n  every passing ship by name, and\nthe weather.",
        "Installation",
        "Run the installer.",
        "Next.",
        "up\n\n\nand on",
    ]


def test_sentences_keep_offsets_and_abbreviations() -> None:
    text = "Hi there. Dr. Who came in c. 911 with J. Smith!  Is it the U.S. Army? Yes.\nNew line"
    sentences = split_sentences("a", text, offset=100)
    assert [s.text for s in sentences] == [
        "Hi there.",
        "Dr. Who came in c. 911 with J. Smith!",
        "Is it the U.S. Army?",
        "Yes.",
        "New line",
    ]
    for s in sentences:
        assert text[s.start - 100 : s.end - 100] == s.text


@pytest.mark.parametrize("text", ["", "   ", "\n\n"])
def test_no_sentences_in_blank_text(text: str) -> None:
    assert split_sentences("a", text) == []


def test_seed_sentences_never_cross_lines_and_cover_the_text() -> None:
    sentences = split_sentences("seed", SEED)
    assert all("\n" not in s.text for s in sentences)
    assert "".join(s.text for s in sentences).replace(" ", "") == "".join(SEED.split())
    assert len(sentences) == 17  # 16 lines, one of which holds two sentences
