"""The answering logic with the hashing embedder: fast, deterministic, no model."""

from pathlib import Path

import pytest
from fakes import HashingEmbedder

from bot import Bot
from bot.answerer import REFUSAL, clean_question
from bot.citations import check
from bot.errors import EmptyQuestion


@pytest.fixture
def bot(tiny_index: Path) -> Bot:
    return Bot.load(tiny_index, embedder=HashingEmbedder())


def _reader(docs_dir: Path):  # type: ignore[no-untyped-def]
    return lambda source: (docs_dir / source).read_text(encoding="utf-8")


def test_answers_with_a_cited_sentence(bot: Bot, docs_dir: Path) -> None:
    answer = bot.answer("Which planet is the largest planet in the solar system?")
    assert not answer.refused
    assert answer.text.startswith("Jupiter is the largest planet in the solar system. [1]")
    assert answer.citations[0].source == "space/planets.md"
    assert check(answer, _reader(docs_dir)) == []
    assert answer.passages[0].source == "space/planets.md" and answer.latency_ms > 0


def test_refuses_when_nothing_matches(bot: Bot) -> None:
    answer = bot.answer("Quantum chromodynamics lattice gauge theory?")
    assert answer.refused and answer.text == REFUSAL and answer.citations == []
    assert answer.passages, "the closest passages are still listed"


def test_strict_mode_refuses_more(tiny_index: Path) -> None:
    from dataclasses import replace

    loose = Bot.load(tiny_index, embedder=HashingEmbedder())
    strict = Bot(
        loose.stored, loose.engine.retriever.embedder, replace(loose.settings, strict=True, strict_min_score=0.99)
    )
    question = "Why do dogs bark?"
    assert not loose.answer(question).refused
    assert strict.answer(question).refused


def test_follow_up_uses_the_previous_turn(bot: Bot) -> None:
    first = bot.answer("Tell me about Jupiter, the largest planet")
    follow = bot.answer("How old is its storm?", [("Tell me about Jupiter, the largest planet", first)])
    assert "300 years" in follow.text
    assert follow.searched[0] == "How old is its storm?" and "Jupiter" in follow.searched[1]
    as_text = bot.answer("How old is its storm?", [("Tell me about Jupiter, the largest planet", first.text)])
    assert as_text.citations == follow.citations, "a history of plain strings finds the same conversation state"


@pytest.mark.parametrize("question", ["", "   ", "?!?", "\x00\x01", "\n\t"])
def test_empty_questions_are_domain_errors(bot: Bot, question: str) -> None:
    with pytest.raises(EmptyQuestion):
        bot.answer(question)


@pytest.mark.parametrize("question", ["Jupiter\x00 planet?", "木星はどこ？", "🪐 Jupiter 🪐", "x" * 100_000])
def test_odd_questions_get_an_answer_or_refusal(bot: Bot, question: str) -> None:
    answer = bot.answer(question)
    assert isinstance(answer.refused, bool) and len(answer.question) <= 2000


def test_clean_question() -> None:
    assert clean_question("  Why\x00 NATO?\n") == "Why NATO?"


def test_a_who_answer_that_says_she_is_led_by_the_sentence_that_names_her(tmp_path: Path) -> None:
    from fakes import hashing_settings, write_docs

    from index.pipeline import index_paths

    docs = write_docs(tmp_path / "docs", {"ada.txt": "Ada Lovelace was an English mathematician born in 1815. "
                                          "In 1843 she translated a paper on the Analytical Engine. "
                                          "Bread rises because yeast makes gas."})  # fmt: skip
    settings = hashing_settings(tmp_path / "index")
    index_paths([docs], settings, embedder=HashingEmbedder())
    bot = Bot.load(settings.index_dir, embedder=HashingEmbedder(), settings=settings)
    answer = bot.answer("Who translated a paper on the Analytical Engine?")
    assert [c.quote for c in answer.citations][:2] == [
        "Ada Lovelace was an English mathematician born in 1815.",
        "In 1843 she translated a paper on the Analytical Engine.",
    ]
    assert bot.answer("When did she translate a paper on the Analytical Engine?").text.startswith("In 1843")
