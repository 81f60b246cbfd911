"""Misspelled question words are searched as the documents spell them (bot/question/spelling.py)."""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from pathlib import Path

import pytest
from fakes import HashingEmbedder, hashing_settings

from bot import Bot
from bot.question.spelling import distance, nearest, respell
from index.search.lexical import is_english

PASSAGES = [
    "Germany sends a brigade, ready when needed, to Lithuania.",
    "Hervé served as a Byzantine general, ultimately in Anatolia.",
]
DOCUMENT_WORDS = {
    "germany",
    "brigade",
    "ready",
    "when",
    "needed",
    "lithuania",
    "hervé",
    "byzantine",
    "general",
    "ultimately",
    "anatolia",
}


def _respell(question: str) -> str:
    return respell(
        question,
        PASSAGES,
        known=lambda word: word in DOCUMENT_WORDS,
        real=is_english,
    )


@pytest.mark.parametrize(
    ("a", "b", "edits"),
    [
        ("recieve", "receive", 1),
        ("lithuana", "lithuania", 1),
        ("kalingrad", "kaliningrad", 2),
        ("brigade", "battalion", 3),
    ],
)
def test_distance_counts_edits_up_to_a_limit(a: str, b: str, edits: int) -> None:
    assert distance(a, b, 2) == edits


def test_the_nearest_word_is_the_fewest_edits_away_then_the_most_frequent() -> None:
    assert nearest("ultimatly", Counter({"ultimately": 1, "ultimate": 5})) == "ultimately"
    assert nearest("brigdae", Counter({"bridge": 9, "brigade": 1})) == "brigade"
    assert nearest("serve", Counter({"herve": 3})) is None  # another first letter: another word


@pytest.mark.parametrize(
    ("question", "respelled"),
    [
        ("How many soldiers go to Lithuana?", "How many soldiers go to Lithuania?"),
        ("When did Herve serve?", "When did Hervé serve?"),  # the documents' accents
        ("Who ultimatly won?", "Who ultimately won?"),
        ("brigde size", "brigade size"),
        ("What's the weather in Lithuania?", "What's the weather in Lithuania?"),  # a real word: not another
        ("Is Germeny big?", "Is Germany big?"),
        ("Is Grmny big?", "Is Grmny big?"),  # too far from any word
        ("Who is Smith?", "Who is Smith?"),  # a dictionary word
        ("Is the brigade redy?", "Is the brigade ready?"),
        ("Why wen?", "Why wen?"),  # three letters: left as typed
    ],
)
def test_respelling_only_changes_unknown_words_near_a_passage_word(question: str, respelled: str) -> None:
    assert _respell(question) == respelled


@pytest.fixture
def bot(tiny_index: Path) -> Bot:
    return Bot.load(tiny_index, embedder=HashingEmbedder(), settings=hashing_settings(tiny_index))


def test_a_misspelled_question_is_searched_respelled_and_answered(bot: Bot) -> None:
    answer = bot.answer("Which planet is the largset in the solar systme?")
    assert answer.searched == ["Which planet is the largest in the solar system?"]
    assert answer.question == "Which planet is the largset in the solar systme?"  # the user's words are kept
    assert not answer.refused and "Jupiter" in answer.text


def test_respelling_can_be_turned_off(bot: Bot) -> None:
    plain = Bot(bot.stored, bot.engine.retriever.embedder, replace(bot.settings, respell=False))
    assert plain.answer("Which planet is the largset?").searched == ["Which planet is the largset?"]
