"""Document titles (bot/question/titles.py) and a follow-up's thread: the hashing embedder for the logic, MiniLM
end to end."""

from pathlib import Path

import pytest
from fakes import HashingEmbedder, hashing_settings, write_docs

from bot import Bot
from bot.question.titles import Titles, title
from index.pipeline import index_paths
from index.search.lexical import terms

NOVEL = {
    "The_Grapes_of_Wrath.txt": "The novel follows the Joad family, tenant farmers driven from Oklahoma by drought. "
    "They travel west to California in search of work.",
    "wine.txt": "Grapes are crushed and fermented to make wine. Red grapes give red wine its colour.",
    "anger.txt": "Wrath is intense anger. Many traditions count wrath among the deadly sins.",
}
CITIES = {
    "bonn.txt": "Bonn is a city on the banks of the Rhine with a population of over 300,000. "
    "It was the capital of West Germany until 1990.",
    "toronto.txt": "Toronto is located in Southern Ontario on the shore of Lake Ontario. "
    "Toronto is the most populous city in Canada.",
}


def _bot(tmp_path: Path, docs: dict[str, str]) -> Bot:
    settings = hashing_settings(tmp_path / "index", min_score=-1.0)  # hashing cosines: test the choice only
    index_paths([write_docs(tmp_path / "docs", docs)], settings, embedder=HashingEmbedder())
    return Bot.load(settings=settings, embedder=HashingEmbedder())


def test_title_is_the_file_name_in_words() -> None:
    assert title("docs/The_Grapes_of_Wrath-000.txt") == "The Grapes of Wrath 000"
    assert title("notes/nato.summit+2026.md") == "nato summit 2026"


def test_a_document_is_named_when_the_question_says_most_of_its_title() -> None:
    titles = Titles(["The_Grapes_of_Wrath.txt", "Grape_varieties.txt", "Anger.txt"])
    assert titles.named(terms("where does the grapes of wrath take place"), limit=3) == ["The_Grapes_of_Wrath.txt"]
    assert titles.named(terms("Which wine grapes grow in Spain?"), limit=3) == [], "one word of two is not a name"
    both = titles.named(terms("grape varieties and the grapes of wrath"), limit=3)
    assert both == ["The_Grapes_of_Wrath.txt", "Grape_varieties.txt"], "equal shares: in the index's order"
    assert titles.named(terms("grape varieties and the grapes of wrath"), limit=1) == both[:1]


def test_a_title_word_that_thousands_of_documents_share_names_none_by_itself() -> None:
    titles = Titles([f"report-{i}.txt" for i in range(1500)] + ["annual_report.txt"])
    assert titles.named(terms("what does the report say"), limit=3) == []
    assert titles.named(terms("what does the annual report say"), limit=3) == ["annual_report.txt"]


def test_a_question_that_names_a_document_is_answered_from_it(tmp_path: Path) -> None:
    answer = _bot(tmp_path, NOVEL).answer("Where does The Grapes of Wrath take place?")
    assert {c.source for c in answer.citations} == {"The_Grapes_of_Wrath.txt"}


def test_a_pronoun_follow_up_stays_with_the_document_of_its_thread(tmp_path: Path) -> None:
    bot = _bot(tmp_path, CITIES)
    first = bot.answer("Which city has a population of over 300,000?")
    assert first.citations[0].source == "bonn.txt"
    follow = bot.answer("Where is it located?", [("Which city has a population of over 300,000?", first)])
    assert follow.citations[0].source == "bonn.txt", follow.text


@pytest.mark.slow
def test_minilm_finds_the_named_document(tmp_path: Path) -> None:
    from bot.config import Settings

    settings = Settings.from_env({}, index_dir=tmp_path / "index")
    index_paths([write_docs(tmp_path / "docs", NOVEL)], settings)
    answer = Bot.load(settings.index_dir).answer("where does the grapes of wrath take place")
    assert not answer.refused and answer.citations[0].source == "The_Grapes_of_Wrath.txt", answer.text
