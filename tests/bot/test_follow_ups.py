"""Which questions continue the conversation (scored and refused with it) and which start a new one."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import HashingEmbedder, hashing_settings

from bot import Bot
from bot.conversation import Context, asks_for_more, elliptical, refers_back


@pytest.mark.parametrize(
    ("question", "refers", "short"),
    [
        ("What did he say?", True, True),
        ("And her sister?", True, True),
        ("When?", False, True),
        ("In what land zone?", False, True),
        ("What is photosynthesis?", False, True),
        ("Who commands the German brigade in Lithuania?", False, False),
        ("Who wrote One Hundred Years of Solitude?", False, False),  # "One" is part of a name
        ("That one?", True, True),
        ("How long does it take to boil an egg?", False, False),  # an "it" that refers to nothing
        ("How long did it take to build?", True, False),  # what was built is the conversation's "it"
        ("How long did it take to build it?", True, False),
    ],
)
def test_a_question_refers_back_or_is_short(question: str, refers: bool, short: bool) -> None:
    assert refers_back(question) is refers
    assert elliptical(question) is short


@pytest.mark.parametrize(
    ("question", "more"),
    [
        ("Tell me more", True),
        ("More about its mission?", True),
        ("Go on.", True),
        ("Which city has more people?", False),
        ("Who else is on its border?", False),  # the rest of the quoted sentence may answer it
    ],
)
def test_asking_for_more(question: str, more: bool) -> None:
    assert asks_for_more(question) is more
    assert refers_back(question) or not more


def test_asking_for_more_quotes_something_not_yet_quoted(bot: Bot) -> None:
    first = bot.answer("Which planet is the largest in the solar system?")
    more = bot.answer("Tell me more", [(first.question, first)])
    assert not more.refused
    said = {(c.source, c.start) for c in first.citations}
    assert said and not said & {(c.source, c.start) for c in more.citations}


@pytest.fixture
def bot(tiny_index: Path) -> Bot:
    return Bot.load(tiny_index, embedder=HashingEmbedder(), settings=hashing_settings(tiny_index))


def _after_jupiter(bot: Bot) -> Context:
    first = bot.answer("Which planet is the largest in the solar system?")
    context = bot.engine.context([(first.question, first)])
    assert context is not None and context.quotes
    return context


def test_short_questions_in_the_documents_words_follow(bot: Bot) -> None:
    context = _after_jupiter(bot)
    assert bot.engine.follows("When?", context)  # no words of its own
    assert bot.engine.follows("What about Mars?", context)  # every word is in the documents
    assert bot.engine.follows("How old is the storm?", context)  # "storm" is in the quoted document
    assert bot.engine.follows("How deep?", context)  # "deep" asks for a kind of answer: no words of its own


def test_a_short_question_about_something_else_starts_a_new_conversation(bot: Bot) -> None:
    context = _after_jupiter(bot)
    assert not bot.engine.follows("Who discovered penicillin?", context)
    assert not bot.engine.follows("Who commands the German brigade in Lithuania?", context)  # long: stands alone
    assert bot.engine.follows("Who discovered it?", context)  # refers back
    assert not bot.engine.follows("When was Mars named?", context)  # says its own subject: stands on its own
    assert bot.engine.follows("What about Mars?", context)  # the question before, about Mars


def test_a_new_question_after_an_answer_is_refused_on_its_own_words(bot: Bot) -> None:
    first = bot.answer("Which planet is the largest in the solar system?")
    assert not first.refused
    assert bot.answer("Who discovered penicillin?").refused
    assert bot.answer("Who discovered penicillin?", [(first.question, first)]).refused


def test_a_question_that_looks_back_but_answers_itself_elsewhere_moves_on(bot: Bot) -> None:
    context = _after_jupiter(bot)  # quoted planets.md
    top_k = bot.settings.top_k
    assert bot.engine.moves_on("Why do those dogs bark at strangers?", context, top_k=top_k)  # animals.txt
    assert not bot.engine.moves_on("Why is that planet the largest?", context, top_k=top_k)  # the quoted document
    assert not bot.engine.moves_on("Do dogs bark?", context, top_k=top_k)  # short: too few words to tell


def test_a_short_question_naming_what_the_conversation_never_said_may_move_on(bot: Bot) -> None:
    context = _after_jupiter(bot)  # quoted planets.md
    assert bot.engine._names_elsewhere("And Sourdough?", context)  # a name planets.md never says
    assert not bot.engine._names_elsewhere("And Mars?", context)  # planets.md says it
    assert not bot.engine._names_elsewhere("And the storm?", context)  # no name
    assert bot.engine.moves_on("And Sourdough starter?", context, top_k=bot.settings.top_k)  # short, yet it moves on


def test_a_new_question_whose_best_sentence_is_on_the_thread_needs_less_evidence(bot: Bot) -> None:
    from dataclasses import replace

    from bot.engine import ON_THREAD, Evidence
    from bot.extractive import Candidate
    from index.documents.chunking import Span

    context = _after_jupiter(bot)  # quoted planets.md
    source = context.sources[0]
    text = "It has a great red spot, a storm older than 300 years."
    sentence = Span(source, text, 0, len(text))
    weak = (ON_THREAD + 0.02,) * 3  # evidence between ON_THREAD and min_score
    assert ON_THREAD < weak[0] < bot.settings.min_score
    on_thread = Evidence([], [Candidate(sentence, *weak)])
    elsewhere = Evidence([], [Candidate(replace(sentence, source="animals.txt"), *weak)])
    assert bot.engine.extractive("What is the spot?", on_thread, bot.settings).refused  # asked first: refused
    answer = bot.engine.on_thread("What is the spot?", on_thread, context, bot.settings)
    assert answer is not None and answer.citations[0].quote == text
    assert bot.engine.on_thread("What is the spot?", elsewhere, context, bot.settings) is None
    assert bot.engine.on_thread("What happened in Brazil?", on_thread, context, bot.settings) is None  # not said there
    strict = replace(bot.settings, strict=True)
    assert bot.engine.on_thread("What is the spot?", on_thread, context, strict) is None
