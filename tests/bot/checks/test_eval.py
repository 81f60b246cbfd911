from pathlib import Path

import pytest

from bot.checks.eval import Case, Expect, QuestionSetError, check, describe, load_question_set, report, run_case
from bot.types import Answer, Citation


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "set.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_loads_questions_and_turns(tmp_path: Path) -> None:
    path = _write(
        tmp_path,
        """
- id: a
  question: Why?
  expect: {contains_any: [x], sources: [s.txt], refusal: false}
- id: b
  turns: ["One?", "Two?"]
""",
    )
    cases = load_question_set(path)
    assert cases[0] == Case("a", ("Why?",), Expect(("x",), (), ("s.txt",), False), str(path))
    assert cases[1].turns == ("One?", "Two?") and cases[1].expect == Expect()


@pytest.mark.parametrize(
    "body,message",
    [
        ("- id: a\n  question: Q\n  colour: red\n", "case a: unknown key 'colour'"),
        ("- id: a\n  question: Q\n  expect: {contain: [x]}\n", "case a: unknown key 'expect.contain'"),
        ("- id: a\n  question: Q\n- id: a\n  question: R\n", "duplicate case id 'a'"),
        ("- id: a\n  question: Q\n  turns: [R]\n", "case a: give exactly one of 'question' or 'turns'"),
        ("- id: a\n", "case a: give exactly one"),
        ("- question: Q\n", "case #1: missing key 'id'"),
        ("- id: a\n  question: Q\n  expect: {refusal: maybe}\n", "must be true or false"),
        ("{a: 1}\n", "expected a list of cases"),
        ("- id: a\n  question: [unclosed\n", "cannot read question set"),
    ],
)
def test_errors_name_file_case_and_key(tmp_path: Path, body: str, message: str) -> None:
    path = _write(tmp_path, body)
    with pytest.raises(QuestionSetError, match=str(path)) as info:
        load_question_set(path)
    assert message in str(info.value)


def _answer(text: str, refused: bool = False, source: str = "s.txt") -> Answer:
    return Answer("q", text, refused, [] if refused else [Citation(1, source, text, 0, len(text), 0.5)])


def test_check_reports_each_failed_expectation() -> None:
    expect = Expect(contains_any=("2027",), contains_all=("unit", "full"), sources=("other.txt",), refusal=False)
    assert check(expect, _answer("The unit is full in 2027. [1]", source="other.txt")) == []
    failures = check(expect, _answer("The unit arrives soon. [1]"))
    assert failures == [
        "contains_any: none of ['2027'] in answer",
        "contains_all: missing ['full']",
        "sources: expected a citation from ['other.txt'], cited ['s.txt']",
    ]
    assert check(Expect(refusal=True), _answer("x")) == ["refusal: expected a refusal, got an answer"]


def test_run_case_passes_history_and_checks_last_turn() -> None:
    seen = []

    def answer_fn(question: str, history: list) -> Answer:  # type: ignore[type-arg]
        seen.append((question, [q for q, _ in history]))
        return _answer(f"reply to {question}")

    result = run_case(answer_fn, Case("c", ("One?", "Two?"), Expect(contains_any=("Two",))))
    assert seen == [("One?", []), ("Two?", ["One?"])]
    assert result.passed and len(result.answers) == 2
    summary = report([result])["summary"]
    assert summary["cases"] == 1 and summary["passed"] == 1 and summary["refusal_accuracy"] is None


def test_a_case_with_a_note_and_no_expectations_is_unchecked(tmp_path: Path) -> None:
    path = _write(tmp_path, "- id: w\n  question: Why?\n  note: marked wrong in the chat\n")
    case = load_question_set(path)[0]
    assert case.note == "marked wrong in the chat" and not case.checked
    result = run_case(lambda q, h: _answer("anything"), case)
    assert result.status == "unchecked" and result.passed
    full = report([result])
    assert full["summary"] | {"latency_ms_p50": None, "latency_ms_p95": None} == {
        "cases": 1, "passed": 0, "failed": 0, "unchecked": 1, "refusal_accuracy": None, "source_hit_rate": None,
        "latency_ms_p50": None, "latency_ms_p95": None,
    }  # fmt: skip
    assert full["cases"][0]["status"] == "unchecked" and full["cases"][0]["note"] == "marked wrong in the chat"
    assert full["cases"][0]["file"] == str(path) and full["cases"][0]["turns"] == ["Why?"]
    assert describe(result).startswith("UNCHECKED w: anything") and "note: marked wrong" in describe(result)
    with pytest.raises(QuestionSetError, match="'note' must be text"):
        load_question_set(_write(tmp_path, "- id: w\n  question: Why?\n  note: [x]\n"))
