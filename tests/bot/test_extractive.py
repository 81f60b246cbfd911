import pytest

from bot.conversation import Context, context_of, queries_for, quoted
from bot.extractive import COSINE_FLOOR, WEIGHTS, Candidate, Vocabulary, select, terms
from bot.retrieval import Query
from bot.types import Answer, Citation
from index.documents.chunking import Span


def _cand(text: str, start: int, cosine: float, lexical: float = 0.0, passage: float = 0.0) -> Candidate:
    return Candidate(Span("s.txt", text, start, start + len(text)), cosine, lexical, passage)


def test_terms_drop_stopwords_and_stem() -> None:
    assert terms("Why can't Ukraine join NATO?") == {"ukrain", "join", "nato"}
    assert terms("") == set()


def test_coverage_weights_rare_words_higher() -> None:
    vocab = Vocabulary.build(["NATO has members.", "NATO meets.", "Ukraine is large.", "NATO again."])
    q = terms("Ukraine NATO")
    assert vocab.coverage(q, "Ukraine is large.") > vocab.coverage(q, "NATO again.") > 0
    assert vocab.coverage(q, "Ukraine and NATO") == pytest.approx(1.0)
    assert vocab.coverage(set(), "anything") == 0.0


def test_select_best_then_close_runner_up_only() -> None:
    a = _cand("Best.", 0, 0.9, 0.9, 0.5)
    b = _cand("Close.", 10, 0.88, 0.88, 0.5)
    c = _cand("Far.", 20, 0.1, 0.0, 0.5)
    assert select([c, b, a], max_sentences=2) == [a, b]
    assert select([c, a], max_sentences=2) == [a]
    assert select([a, b], max_sentences=1) == [a]
    assert select([], max_sentences=2) == []


def test_select_deduplicates_a_sentence_seen_in_two_passages() -> None:
    same = Span("s.txt", "Same.", 0, 5)
    low, high = Candidate(same, 0.5, 0.5, 0.1, dense=0.1), Candidate(same, 0.5, 0.5, 0.6, dense=1.0)
    assert select([low, high], max_sentences=2) == [high]


def test_follow_up_adds_a_weaker_query_with_the_previous_turn() -> None:
    assert queries_for("When?", None) == [Query("When?")]
    previous = Answer(
        "Who sends a brigade?", "Germany does. [1]", False, [Citation(1, "a.txt", "Germany does.", 5, 18, 0.5)]
    )
    context = context_of([("Who sends a brigade?", previous)], lambda quote: [])
    assert context == Context("Who sends a brigade?", "Germany does.", (("a.txt", 5, 18),))
    queries = queries_for("When is it ready?", context)
    assert queries[0] == Query("When is it ready?")
    assert queries[1].text == "Who sends a brigade? Germany does. When is it ready?" and queries[1].weight < 1


def test_after_a_refusal_the_last_turn_that_quoted_is_carried_forward() -> None:
    places = {"Bonn lies on the Rhine.": [("bonn.txt", 0, 22)]}
    refusal = "The documents don't contain an answer to that question."
    history = [("Which city lies on the Rhine?", "Bonn lies on the Rhine. [1]"), ("What is its name?", refusal)]
    context = context_of(history, lambda q: places.get(q, []))
    assert context == Context("Which city lies on the Rhine?", "Bonn lies on the Rhine.", (("bonn.txt", 0, 22),))
    nothing = context_of([("Why?", refusal)], lambda q: places.get(q, []))
    assert nothing == Context("Why?", "", ()), "a refusal's text is not searched for"


def test_a_history_of_plain_strings_is_located_again_by_its_quotes() -> None:
    places = {"It rains.": [("w.txt", 0, 9)], "It pours.": [("w.txt", 10, 19), ("x.txt", 0, 9)]}
    context = context_of([("Weather?", "It rains. [1] It pours. [2]")], lambda q: places.get(q, []))
    assert context is not None and context.quotes == (("w.txt", 0, 9), ("w.txt", 10, 19), ("x.txt", 0, 9))
    assert quoted("A. [1] B [unsupported]") == ["A.", "B [unsupported]"] and quoted("") == []


def test_a_shared_word_is_no_evidence_without_some_meaning_in_common() -> None:
    unrelated = _cand("This eventually produced closer ties of blood.", 0, 0.04, 1.0, 0.0)  # "How do I tie a tie?"
    assert unrelated.evidence == pytest.approx(0.04)
    related = _cand("It ties the knot.", 0, COSINE_FLOOR, 1.0, 0.0)
    assert related.evidence == pytest.approx((COSINE_FLOOR + 1.0) / 3)
    follow_up = Candidate(unrelated.sentence, 0.04, 1.0, 0.0, context=0.5)  # the conversation is about it
    assert follow_up.evidence == pytest.approx(0.5)


def test_a_question_without_content_words_is_judged_on_meaning_alone() -> None:
    # "When?" after a turn: no word of its own to find, so word coverage is no evidence against a sentence
    worded = Candidate(_cand("Founded in 997.", 0, 0.0, 0.0, 0.6).sentence, 0.02, 0.0, 0.6, context=0.8)
    wordless = Candidate(worded.sentence, 0.02, 0.0, 0.6, context=0.8, wordless=True)
    assert worded.evidence == pytest.approx(1.4 / 3)
    assert wordless.evidence == pytest.approx(0.7)
    alone = Candidate(worded.sentence, 0.02, 0.0, 0.6, wordless=True)  # "When?" with no conversation
    assert alone.evidence == pytest.approx(0.02)


def test_missing_answer_type_lowers_the_score_not_the_evidence() -> None:
    plain = _cand("Soon.", 0, 0.6, 0.6, 0.6)
    untyped = Candidate(plain.sentence, 0.6, 0.6, 0.6, typed=False)
    assert untyped.evidence == plain.evidence and untyped.score == pytest.approx(plain.score - WEIGHTS["typed"])
    dated = _cand("In 2027.", 10, 0.5, 0.5, 0.6)
    assert select([untyped, dated], max_sentences=1) == [dated]


def test_near_is_the_quoted_sentence_or_the_one_right_after_it() -> None:
    from bot.engine import _near

    quote = ("a.txt", 10, 30)
    assert _near(Span("a.txt", "x" * 20, 10, 30), quote)  # the quote itself
    assert _near(Span("a.txt", "x" * 9, 31, 40), quote)  # right after it
    assert not _near(Span("a.txt", "x" * 9, 0, 9), quote)  # before it
    assert not _near(Span("a.txt", "x" * 9, 50, 59), quote)  # further on
    assert not _near(Span("b.txt", "x" * 20, 10, 30), quote)  # another file


def test_a_blank_line_starts_a_new_paragraph() -> None:
    from bot.engine import _new_paragraph

    text = "It crosses Panama.\n\nFrance began work. It stopped."
    chunk = Span("a.txt", text, 100, 100 + len(text))
    first, second, third = (Span("a.txt", s, 100 + text.index(s), 100 + text.index(s) + len(s))
                            for s in ("It crosses Panama.", "France began work.", "It stopped."))  # fmt: skip
    assert _new_paragraph(chunk, first, second)
    assert not _new_paragraph(chunk, second, third)
