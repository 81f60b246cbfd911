"""The real stack on seeds/: MiniLM, FAISS through llama-index, BM25, the CLI and `from bot import answer`."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bot.checks.eval import load_question_set
from bot.citations import check

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
OFF_TOPIC = [line for line in (ROOT / "data" / "off_topic.txt").read_text(encoding="utf-8").splitlines() if line]


def _read(source: str) -> str:
    return (ROOT / "seeds" / source).read_text(encoding="utf-8")


def test_ukraine_question_cites_the_territorial_integrity_sentence(seed_bot) -> None:  # type: ignore[no-untyped-def]
    answer = seed_bot.answer("Why can't Ukraine join NATO?")
    first = answer.citations[0]
    assert not answer.refused and answer.text.startswith(first.quote + " [1]")
    assert "territorial integrity" in first.quote and "unanimous backing of all 32 NATO members" in first.quote
    assert _read(first.source)[first.start : first.end] == first.quote


def test_citation_invariant_on_every_seed_answer(seed_bot) -> None:  # type: ignore[no-untyped-def]
    questions = [t for c in load_question_set(ROOT / "tests" / "questions" / "seed.yaml") for t in c.turns]
    for question in questions + OFF_TOPIC[:10]:
        answer = seed_bot.answer(question)
        assert check(answer, _read) == [], question
        assert answer.refused == (answer.citations == [])
        for p in answer.passages:
            assert _read(p.source)[p.start : p.end] == p.text


def test_off_topic_questions_are_refused(seed_bot) -> None:  # type: ignore[no-untyped-def]
    answered = [q for q in OFF_TOPIC if not seed_bot.answer(q).refused]
    assert answered == []


def test_follow_up_about_the_german_brigade(seed_bot) -> None:  # type: ignore[no-untyped-def]
    first = seed_bot.answer("Which country is sending a brigade to Lithuania?")
    alone = seed_bot.answer("And when will it be fully operational?")
    follow = seed_bot.answer("And when will it be fully operational?", [(first.question, first)])
    assert "2027" in follow.text and not follow.refused
    assert follow.passages[0].source == "germany-lithuania-brigade.txt"
    assert alone.question == follow.question


def test_cli_index_and_ask_json(tmp_path: Path) -> None:
    env = {**os.environ, "CITEBOT_INDEX_DIR": str(tmp_path / "ix")}
    citebot = [sys.executable, "-m", "ui.cli"]
    run = subprocess.run([*citebot, "index", "seeds", "--quiet"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    run = subprocess.run(
        [*citebot, "ask", "Why can't Ukraine join NATO?", "--json"], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0 and run.stderr == "", run.stderr
    data = json.loads(run.stdout)
    assert "territorial integrity" in data["citations"][0]["quote"]
    code = "from bot import answer; print(answer(\"Why can't Ukraine join NATO?\").to_dict()['answer'])"
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True)
    assert run.returncode == 0 and "territorial integrity" in run.stdout and "[1]" in run.stdout


def test_seed_through_milvus_lite_answers_as_faiss_does(tmp_path: Path) -> None:
    """The same answer, citations verbatim, when the whole retrieval lives in Milvus (Lite here) as with FAISS."""
    from dataclasses import replace

    from bot import Bot, Settings
    from index.pipeline import index_paths

    question = "Why can't Ukraine join NATO?"
    faiss = Settings.from_env({}, index_dir=tmp_path / "faiss")
    milvus = replace(faiss, index_dir=tmp_path / "ix", vector_store="milvus")
    answers = []
    for settings in (faiss, milvus):
        index_paths([ROOT / "seeds"], settings)
        answers.append(Bot.load(settings=settings).answer(question))
    expected, answer = answers
    first = answer.citations[0]
    assert "territorial integrity" in first.quote and _read(first.source)[first.start : first.end] == first.quote
    assert answer.text == expected.text and answer.citations == expected.citations
