"""Saving chat turns as question-set cases: the case from an answer, and locked, atomic appends."""

from __future__ import annotations

import subprocess
import sys
import threading
from pathlib import Path

import pytest
import yaml

from bot.checks.eval import load_question_set
from bot.checks.saved import (
    HEADER,
    SaveError,
    Turn,
    append_case,
    case_from_turn,
    distinctive_words,
    parse_command,
    parse_words,
    questions_file,
    save_turn,
    slug,
    unique_id,
)
from bot.config import Settings
from bot.types import Answer, Citation

ROOT = Path(__file__).resolve().parents[3]
QUOTE = "The new German unit is expected to reach full operational capability in 2027."
ANSWER = Answer(
    "When will it be ready?",
    f"{QUOTE} [1]",
    False,
    [Citation(1, "brigade.txt", QUOTE, 10, 10 + len(QUOTE), 0.7), Citation(2, "other.md", "x", 0, 1, 0.5)],
)
REFUSED = Answer("Who wrote Hamlet?", "The documents don't contain an answer to that question.", True)


def test_distinctive_words_prefers_numbers_then_long_words_and_skips_stopwords() -> None:
    assert distinctive_words(QUOTE) == ["2027", "operational", "capability"]
    assert distinctive_words("It was the 5,000 personnel and 2,000 vehicles.") == ["5,000", "2,000", "personnel"]
    assert distinctive_words("Full capability soon.", within="no capability here") == ["capability"]
    assert distinctive_words("the and of it") == []


def test_case_for_a_single_question_expects_sources_words_and_an_answer() -> None:
    case = case_from_turn(Turn(("When will the German unit be ready?",), ANSWER))
    assert case == {
        "id": "when-will-the-german-unit-be",
        "question": "When will the German unit be ready?",
        "expect": {
            "contains_any": ["2027", "operational", "capability"],
            "sources": ["brigade.txt", "other.md"],
            "refusal": False,
        },
    }


def test_follow_up_keeps_its_turns_and_essential_words_win() -> None:
    case = case_from_turn(Turn(("Who sends a brigade?", "When is it ready?"), ANSWER), essential=[" 2027 ", ""])
    assert case["turns"] == ["Who sends a brigade?", "When is it ready?"] and "question" not in case
    assert case["expect"]["contains_any"] == ["2027"]


def test_refusal_saves_a_refusal_expectation_and_wrong_saves_a_note_only() -> None:
    assert case_from_turn(Turn(("Who wrote Hamlet?",), REFUSED))["expect"] == {"refusal": True}
    wrong = case_from_turn(Turn(("When?",), ANSWER), verdict="wrong")
    assert "expect" not in wrong and "Marked wrong" in wrong["note"] and "2027" in wrong["note"]


@pytest.mark.parametrize(
    "line,parsed",
    [
        ("/save", ("good", [])),
        ("/save 2027 Pistorius", ("good", ["2027", "Pistorius"])),
        ('/save "territorial integrity" unanimous', ("good", ["territorial integrity", "unanimous"])),
        ("/wrong", ("wrong", [])),
        ("/saved games?", None),
        ("Why save?", None),
    ],
)
def test_parse_command(line: str, parsed: object) -> None:
    assert parse_command(line) == parsed


def test_parse_words_commas_quotes_and_unclosed_quotes() -> None:
    assert parse_words("territorial integrity, unanimous,") == ["territorial integrity", "unanimous"]
    assert parse_words('a "b') == ["a", '"b']
    assert parse_words("") == []


def test_slug_and_unique_id() -> None:
    assert slug("Why can't Ukraine join NATO?") == "why-can-t-ukraine-join-nato"
    assert slug("???") == "case"
    assert unique_id("a", {"a", "a-2"}) == "a-3" and unique_id("b", {"a"}) == "b"


def test_questions_file_is_under_the_indexed_folder(tmp_path: Path) -> None:
    assert questions_file([str(tmp_path / "gone"), str(tmp_path)], Path("docs"), "q/s.yaml") == tmp_path / "q/s.yaml"
    assert questions_file([], Path("docs"), "q/s.yaml") == Path("docs/q/s.yaml")
    assert questions_file([str(tmp_path)], Path("docs"), "/abs/s.yaml") == Path("/abs/s.yaml")


def test_saved_file_is_created_keeps_comments_and_loads(tmp_path: Path) -> None:
    settings = Settings.from_env({}, docs_dir=tmp_path / "docs")
    saved = save_turn(Turn(("When will it be ready?",), ANSWER), roots=[], settings=settings)
    first, path = saved.id, saved.path
    assert path == tmp_path / "docs" / "questions" / "saved.yaml" and path.read_text(encoding="utf-8").startswith(
        HEADER
    )
    path.write_text(path.read_text(encoding="utf-8") + "# my own comment\n", encoding="utf-8")
    second = save_turn(Turn(("When will it be ready?",), ANSWER), roots=[], settings=settings, verdict="wrong").id
    again = save_turn(Turn(("When will it be ready?",), ANSWER), roots=[], settings=settings)
    assert (again.id, again.added) == (first, False), "the same case is not saved twice"
    assert (first, second) == ("when-will-it-be-ready", "when-will-it-be-ready-2")
    assert "# my own comment" in path.read_text(encoding="utf-8")
    cases = load_question_set(path)
    assert [c.id for c in cases] == [first, second] and cases[1].note and not cases[1].checked


def test_flow_style_file_is_rewritten_whole(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text("[{id: a, question: Q}]\n", encoding="utf-8")
    assert append_case(path, {"id": "b", "question": "R?"}) == ("b", True)
    assert [c.id for c in load_question_set(path)] == ["a", "b"]


@pytest.mark.parametrize("text", ["{a: 1}\n", "- id: [unclosed\n"])
def test_a_broken_file_is_not_overwritten(tmp_path: Path, text: str) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(SaveError, match=str(path)):
        append_case(path, {"id": "b", "question": "R?"})
    assert path.read_text(encoding="utf-8") == text


def test_concurrent_saves_from_threads_keep_every_case(tmp_path: Path) -> None:
    path = tmp_path / "q" / "saved.yaml"
    errors: list[BaseException] = []

    def save(n: int) -> None:
        try:
            for i in range(10):
                append_case(path, case_from_turn(Turn((f"Question {n} {i}?",), ANSWER)))
        except BaseException as exc:  # pragma: no cover - reported below
            errors.append(exc)

    threads = [threading.Thread(target=save, args=(n,)) for n in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len({c.id for c in load_question_set(path)}) == 80
    assert not [p for p in path.parent.iterdir() if p.suffix == ".tmp"], "no temporary files left behind"


SAVER = """
import sys
from pathlib import Path
from bot.checks.saved import append_case
for i in range(15):
    append_case(Path(sys.argv[1]), {"id": "same", "question": f"From {sys.argv[2]} number {i}?"})
"""


def test_concurrent_saves_from_processes_keep_every_case(tmp_path: Path) -> None:
    path = tmp_path / "saved.yaml"
    procs = [
        subprocess.Popen([sys.executable, "-c", SAVER, str(path), str(n)], cwd=ROOT, stderr=subprocess.PIPE)
        for n in range(4)
    ]
    assert all(p.wait(timeout=120) == 0 for p in procs), [p.stderr.read() for p in procs if p.stderr]
    cases = load_question_set(path)
    assert len(cases) == 60 and len({c.id for c in cases}) == 60
    assert {c.turns[0] for c in cases} == {f"From {n} number {i}?" for n in range(4) for i in range(15)}
    assert isinstance(yaml.safe_load(path.read_text(encoding="utf-8")), list)


def test_saved_question_sets_are_never_indexed(tmp_path: Path) -> None:
    from index.documents.loader import load_documents

    docs = tmp_path / "docs"
    (docs / "questions").mkdir(parents=True)
    (docs / "a.txt").write_text("Owls hunt at night.", encoding="utf-8")
    save_turn(Turn(("Q?",), ANSWER), roots=[str(docs)], settings=Settings.from_env({}))
    assert (docs / "questions" / "saved.yaml").exists()
    loaded, skipped = load_documents([docs])
    assert [d.source for d in loaded] == ["a.txt"] and skipped == []
