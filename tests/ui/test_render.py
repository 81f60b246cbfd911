"""Pure rendering of answers and sources for the browser."""

from pathlib import Path

import pytest

from bot.errors import CitebotError
from bot.types import Answer, Citation, Passage, Short
from ui.render import escape_markdown, format_answer, render_sources
from ui.serve_cli import parse_auth

PASSAGE = Passage("a.txt", "Before. It rains <b>hard</b>. After.", 100, 136, 0.61)
CITATION = Citation(1, "a.txt", "It rains <b>hard</b>.", 108, 129, 0.7)
ANSWER = Answer("Does it rain?", "It rains <b>hard</b>. [1]", False, [CITATION], [PASSAGE])
REFUSED = Answer("Who wrote Hamlet?", "The documents don't contain an answer to that question.", True, [], [PASSAGE])


def test_escape_markdown_neutralises_markup() -> None:
    assert escape_markdown("<b>*x*</b> [1](javascript:alert(1)) ![i](http://e/x.png)") == (
        "\\<b\\>\\*x\\*\\</b\\> \\[1\\]\\(javascript:alert\\(1\\)\\) \\!\\[i\\]\\(http://e/x\\.png\\)"
    )


def test_format_answer_escapes_text_and_links_markers_to_the_viewer() -> None:
    link = "#cb-open?source=a.txt&start=108&end=129"
    assert format_answer(ANSWER) == f"It rains \\<b\\>hard\\</b\\>\\. [\\[1\\]]({link})"
    pdf = Answer("q", "A [2] B [1] [9]", False, [Citation(1, "r p.pdf", "A", 0, 1, 0.5, 3, "p. 3-4"),
                                                  Citation(2, "x(1).md", "B", 5, 6, 0.5)])  # fmt: skip
    assert format_answer(pdf) == (
        "A [\\[2\\]](#cb-open?source=x%281%29.md&start=5&end=6) B "
        "[\\[1\\]](#cb-open?source=r%20p.pdf&start=0&end=1&location=p.%203-4) \\[9\\]"
    ), "sources are URL-quoted; a number without a citation stays text"


def test_the_short_answer_is_bold_inside_its_quote_in_the_chat_and_first_in_the_terminal() -> None:
    from ui.cli import render

    quote = "The unit reaches full capability in 2027."
    cited = Citation(1, "a.txt", quote, 100, 100 + len(quote), 0.7)
    short = Short(1, "2027", "a.txt", 136, 140, 0.8)
    answer = Answer("When?", f"{quote} [1]", False, [cited], [], short=short)
    assert format_answer(answer).startswith("The unit reaches full capability in **2027**\\. [\\[1\\]]")
    assert render(answer).splitlines()[0] == "In short: 2027 [1]"
    elsewhere = Answer("When?", f"{quote} [1]", False, [cited], [], short=Short(1, "1999", "a.txt", 10, 14, 0.8))
    assert "**" not in format_answer(elsewhere)  # a span outside the quote is not shown


def test_refusal_looks_different() -> None:
    text = format_answer(REFUSED)
    assert text.startswith("**Not in the documents.**") and "related, not an answer" in text


def test_warnings_are_notes_under_the_answer() -> None:
    from dataclasses import replace

    text = format_answer(replace(ANSWER, warnings=["the model timed out"]))
    assert text == format_answer(ANSWER) + "\n\n_Note: the model timed out_"


def test_sources_highlight_the_quote_inside_its_passage_as_text() -> None:
    html = render_sources(ANSWER)
    assert "<b>hard</b>" not in html, "document HTML must be shown as text"
    assert "Before. <mark>It rains &lt;b&gt;hard&lt;/b&gt;.</mark> After." in html
    assert "<code>a.txt</code>" in html and "score 0.70" in html and "[1]" in html
    assert "<a class='cb-open' href='#cb-open?source=a.txt&amp;start=108&amp;end=129'><b>[1]</b>" in html


def test_refusal_sources_are_related_not_an_answer() -> None:
    html = render_sources(REFUSED)
    assert "Related, not an answer" in html and "<mark>" not in html and "Before." in html
    assert "appear here" in render_sources(None)


def test_sources_show_what_a_follow_up_searched_for() -> None:
    from dataclasses import replace

    follow = replace(ANSWER, searched=[ANSWER.question, "Who <b>sends</b> it? When?"])
    assert "searched for: Who &lt;b&gt;sends&lt;/b&gt; it? When?" in render_sources(follow)
    assert "searched for" not in render_sources(replace(ANSWER, searched=[ANSWER.question]))


def test_auth_required_off_loopback() -> None:
    assert parse_auth("127.0.0.1", "") is None
    assert parse_auth("0.0.0.0", "ann:s3cret:x") == [("ann", "s3cret:x")]
    with pytest.raises(CitebotError, match="--auth user:password"):
        parse_auth("0.0.0.0", "")
    with pytest.raises(CitebotError, match="user:password"):
        parse_auth("127.0.0.1", "nopassword")


def test_several_users_from_flags_the_variable_or_a_file(tmp_path: Path) -> None:
    users = tmp_path / "users.txt"
    users.write_text("# user:password, one a line\ncyd:a,b:c\n\n", encoding="utf-8")
    assert parse_auth("0.0.0.0", ["ann:x,y", "bob:z"]) == [("ann", "x,y"), ("bob", "z")]  # --auth: one pair each
    assert parse_auth("0.0.0.0", "ann:x, bob:z") == [("ann", "x"), ("bob", "z")]  # CITEBOT_AUTH: commas between
    assert parse_auth("0.0.0.0", [f"@{users}", "ann:x"]) == [("cyd", "a,b:c"), ("ann", "x")]
    with pytest.raises(CitebotError, match="names a user twice"):
        parse_auth("0.0.0.0", "ann:x,ann:y")
    with pytest.raises(CitebotError, match="Cannot read the users file .*missing"):
        parse_auth("0.0.0.0", f"@{tmp_path / 'missing'}")


def test_serve_binds_loopback_by_default() -> None:
    from ui.cli import _parser

    args = _parser().parse_args(["serve"])
    assert (args.host, args.port, args.auth, args.watch) == ("127.0.0.1", 7860, None, False)
    assert _parser().parse_args(["serve", "--watch"]).watch


def test_chat_handler_streams_llm_tokens_then_the_verified_answer(tiny_index) -> None:  # type: ignore[no-untyped-def]
    from fakes import HashingEmbedder, hashing_settings

    from bot import Bot
    from bot.chats.store import Saving
    from bot.llm.backends import FunctionModel
    from ui.page.app import _respond
    from ui.page.conversations_panel import Memory

    model = FunctionModel(lambda s, p: "Jupiter is the largest planet in the solar system [1][7].")
    bot = Bot.load(tiny_index, embedder=HashingEmbedder(), settings=hashing_settings(tiny_index), llm=model)
    updates = list(_respond(bot, Memory(Saving(None, "off")))("Which planet is the largest?", [], [], {}, "", None))
    streamed = [chat[-1]["content"] for chat, *_ in updates[:-1]]
    assert len(streamed) > 3 and streamed[-1].endswith("\\[1\\]\\[7\\]\\.")  # raw tokens, as written
    chat, sources, history, box, kept, cid, _, note = updates[-1]
    assert (cid, note) == ("", "off")  # not saved, and the page says why
    link = "#cb-open?source=space%2Fplanets.md&start=68&end=118"
    assert chat[-1]["content"] == f"Jupiter is the largest planet in the solar system\. [\[1\]]({link})"
    assert "<mark>Jupiter is the largest planet in the solar system.</mark>" in sources
    assert history == [["Which planet is the largest?", "Jupiter is the largest planet in the solar system. [1]"]]
    assert box == "" and list(kept) == [1] and kept[1].questions == ("Which planet is the largest?",)


def test_saving_answers_from_the_page_handlers(tiny_index, docs_dir, tmp_path) -> None:  # type: ignore[no-untyped-def]
    from fakes import HashingEmbedder, hashing_settings

    from bot import Bot
    from bot.chats.store import LOCAL_USER, ConversationStore, Saving
    from bot.checks.eval import load_question_set
    from ui.page.app import _on_save_last, _respond, save_answer
    from ui.page.conversations_panel import Memory

    bot = Bot.load(tiny_index, embedder=HashingEmbedder(), settings=hashing_settings(tiny_index))
    store = ConversationStore.open(tmp_path / "c.sqlite3")
    respond = _respond(bot, Memory(Saving(store)))
    assert _on_save_last(bot)({}, "") == "Nothing to save yet: ask a question first."
    *_, (chat, _, history, _, kept, cid, _, _) = respond("Which planet is the largest?", [], [], {}, "", None)
    *_, (chat, _, history, _, kept, again, _, _) = respond("How old is its storm?", chat, history, kept, cid, None)
    saved = store.get(LOCAL_USER, cid)
    assert again == cid and [a.question for a in saved.answers] == [
        "Which planet is the largest?",
        "How old is its storm?",
    ]
    status = _on_save_last(bot)(kept, "300 years, storm")
    path = docs_dir / "questions" / "saved.yaml"
    assert status == f"Saved test: how\\-old\\-is\\-its\\-storm in {escape_markdown(str(path))}"
    assert _on_save_last(bot)(kept, "300 years, storm") == status + " (it was already there)"
    assert save_answer(bot, kept[1], verdict="wrong", essential="").startswith("Saved as wrong")
    first, second = load_question_set(path)
    assert first.turns == ("Which planet is the largest?", "How old is its storm?")
    assert first.expect.contains_any == ("300 years", "storm") and first.expect.sources == ("space/planets.md",)
    assert second.turns == ("Which planet is the largest?",) and not second.checked and "Jupiter" in second.note
