from bot.citations import check, cited_numbers, compose
from bot.types import Answer, Citation
from index.documents.chunking import Span

SOURCE = "It rains in Bergen. The sun shines in Rome."


def test_compose_numbers_each_quote() -> None:
    text, citations = compose(
        [
            (Span("w.txt", "The sun shines in Rome.", 20, 43), 0.81234),
            (Span("w.txt", "It rains in Bergen.", 0, 19), 0.5),
        ]
    )
    assert text == "The sun shines in Rome. [1] It rains in Bergen. [2]"
    assert citations[0] == Citation(1, "w.txt", "The sun shines in Rome.", 20, 43, 0.8123)
    assert check(Answer("q", text, False, citations), lambda source: SOURCE) == []


def test_cited_numbers() -> None:
    assert cited_numbers("A [1]. B [2][1]. C [x] [10]") == [1, 2, 1, 10]


def test_check_finds_dangling_markers_and_wrong_quotes() -> None:
    bad = Answer("q", "Claim [1]. Other [3].", False, [Citation(1, "w.txt", "It rains in Rome.", 0, 17, 0.5)])
    assert check(bad, lambda source: SOURCE) == ["[3] has no citation", "[1] quote is not w.txt[0:17]"]


def test_to_dict_shape() -> None:
    answer = Answer("q", "A [1]", False, [Citation(1, "s", "A", 0, 1, 0.5)], [], 1.5)
    assert answer.to_dict() == {
        "question": "q",
        "answer": "A [1]",
        "refused": False,
        "citations": [
            {"n": 1, "source": "s", "quote": "A", "start": 0, "end": 1, "score": 0.5, "page": None, "location": None}
        ],
        "passages": [],
        "latency_ms": 1.5,
        "searched_for": [],
        "short": None,
    }
