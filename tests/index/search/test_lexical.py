"""The tokenizer shared by BM25 and sentence scoring."""

from __future__ import annotations

from index.search.lexical import LEMMAS, terms, tokens


def test_irregular_forms_meet_their_base_form() -> None:
    assert terms("Who wrote it?") == terms("It was written.") == terms("They write.") == {"write"}
    assert terms("What did it find?") == terms("The rover found clay.") - {"rover", "clay"}
    assert terms("Did it win?") == terms("It won.")
    assert terms("women") == terms("a woman")


def test_a_people_meets_its_country() -> None:
    assert terms("Why did the French stop?") & terms("France began work on the canal.") == {"franc"}
    assert terms("Irish culture") & terms("the east of Ireland") == terms("Ireland")
    assert terms("the Germans") != terms("Germany")  # regular forms are left to the stemmer


def test_ambiguous_forms_are_left_alone() -> None:
    for word in ("left", "saw", "felt", "rose", "born", "founded", "english", "polish", "roman"):
        assert word not in LEMMAS
    assert terms("The city was founded in 1793.") == {"citi", "found", "1793"}  # founding, not finding


def test_tokens_keep_order_and_repeats() -> None:
    assert tokens("Why can't Ukraine join NATO? Ukraine!") == ["ukrain", "join", "nato", "ukrain"]


def test_auxiliaries_and_pronouns_carry_no_evidence() -> None:
    assert terms("Where's she from?") == set()  # "from" would match every sentence that has it
    assert terms("What were they doing, and what has he had?") == set()
    assert terms("Who has the most medals?") == {"most", "medal"}
