"""The pure scoring of benchmarks/quality.py: answer matching, span overlap, SQuAD-style metrics."""

from __future__ import annotations

from benchmarks.quality_metrics import Reply, cites_span, contains_gold, normalize, qa_metrics, words


def test_normalize_drops_markers_punctuation_and_articles() -> None:
    assert normalize("The Normans came in 1066. [1] An end. [2]") == "normans came in 1066 end"


def test_contains_gold_needs_an_answer_not_a_refusal() -> None:
    assert contains_gold(Reply("They came in 1066. [1]", False), ["in 1066"])
    assert not contains_gold(Reply("They came in 1066.", True), ["1066"])
    assert not contains_gold(Reply("They came.", False), ["1066", ""])


def test_words_ignores_markers() -> None:
    assert words(Reply("One two three. [1] Four. [2]", False)) == 4


def test_cites_span_needs_overlap_in_the_same_file() -> None:
    reply = Reply("x", False, [("a.txt", 10, 20)])
    assert cites_span(reply, "a.txt", 19, 30)
    assert not cites_span(reply, "a.txt", 20, 30)  # [start, end): touching is not overlapping
    assert not cites_span(reply, "b.txt", 12, 14)
    assert not cites_span(Reply("x", True, [("a.txt", 10, 20)]), "a.txt", 12, 14)


def test_qa_metrics_scores_answerable_and_unanswerable_apart() -> None:
    replies = [
        Reply("Rollo led them. [1]", False, [], ["a.txt", "b.txt"], 10.0),
        Reply("Nothing.", True, [], ["c.txt", "b.txt"], 20.0),
        Reply("Refused.", True, [], ["a.txt"], 30.0),
    ]
    golds = [("a.txt", ["Rollo"], False), ("b.txt", ["1066"], False), ("a.txt", [], True)]
    got = qa_metrics(replies, golds, refuses=True)
    assert got["hit@1"] == 0.5 and got["hit@5"] == 1.0
    assert got["answer contains gold"] == 0.5
    assert got["refused (answerable)"] == 0.5 and got["refused (unanswerable)"] == 1.0
    assert got["median words"] == 3.0 and got["latency p50 ms"] == 20.0
    assert list(got)[-1] == "latency p50 ms"
    assert qa_metrics(replies[:2], golds[:2], refuses=False)["refused (unanswerable)"] is None
