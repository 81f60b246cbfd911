"""Questions about a document as a whole (bot/question/overview.py)."""

from __future__ import annotations

import pytest

from bot.question.overview import asks_for_overview


@pytest.mark.parametrize(
    ("question", "named", "overview"),
    [
        ("What is this article about?", False, True),
        ("Who is the story about?", False, True),
        ("What's the name of the subject of the story?", False, True),
        ("Can you summarize it?", False, True),
        ("What's the main point?", False, True),
        ("tl;dr", False, True),
        ("What is The Grapes of Wrath about?", True, True),  # names a document by its title
        ("What is the treaty about?", False, False),  # a treaty is no document of the index
        ("What did the minister say about the brigade?", False, False),
        ("Who wrote the article?", False, False),
        ("What does the article say about Belarus?", False, False),  # about something in it
        ("Summarize what the story says about his trial", False, False),
    ],
)
def test_asks_for_overview(question: str, named: bool, overview: bool) -> None:
    assert asks_for_overview(question, names_a_document=named) is overview
