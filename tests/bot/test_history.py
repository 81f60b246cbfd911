"""One conversation-history type: earlier (question, Answer or answer text) turns, from every entry point."""

from __future__ import annotations

from pathlib import Path

import pytest
from fakes import HashingEmbedder, hashing_settings

from bot import Bot
from bot.conversation import History, history_from_pairs
from bot.errors import BadHistory


def test_pairs_from_the_page_and_the_api_become_a_history() -> None:
    assert history_from_pairs([["Who?", "Germany. [1]"]]) == [("Who?", "Germany. [1]")]
    assert history_from_pairs((("Who?", "Germany."),)) == [("Who?", "Germany.")]
    assert history_from_pairs(None) == [] and history_from_pairs([]) == []


@pytest.mark.parametrize("bad", ["Who?", [["Who?"]], [["Who?", "a", "b"]], [["Who?", 3]], {"q": "a"}, [None]])
def test_a_malformed_history_is_a_clear_error(bad: object) -> None:
    with pytest.raises(BadHistory, match=r"list of \[question, answer\] pairs of strings"):
        history_from_pairs(bad)


def test_a_follow_up_reads_the_same_from_answers_and_from_their_text(tiny_index: Path) -> None:
    bot = Bot.load(tiny_index, embedder=HashingEmbedder(), settings=hashing_settings(tiny_index))
    first = bot.answer("Which planet is the largest in the solar system?")
    with_answers: History = [(first.question, first)]
    as_text = history_from_pairs([[first.question, first.text]])
    follow_up = "How big is it?"
    assert bot.answer(follow_up, with_answers).text == bot.answer(follow_up, as_text).text


def test_the_page_and_openai_endpoints_share_the_history_type(tiny_index: Path) -> None:
    import gradio as gr

    from ui.api.openai_routes import Message, conversation
    from ui.page.app import _ask

    bot = Bot.load(tiny_index, embedder=HashingEmbedder(), settings=hashing_settings(tiny_index))
    with pytest.raises(gr.Error, match="pairs of strings"):
        _ask(bot)("How big is it?", [["only a question"]])
    first = bot.answer("Which planet is the largest in the solar system?")
    messages = [Message(role="user", content=first.question), Message(role="assistant", content=first.text)]
    question, history = conversation([*messages, Message(role="user", content="How big is it?")])
    assert history == history_from_pairs([[first.question, first.text]])
    assert _ask(bot)(question, [[first.question, first.text]])["answer"] == bot.answer(question, history).text
