"""The shipped reader model: loads offline with its checksums, refuses damaged files clearly, reads as trained."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.engine import Engine, answerable
from bot.errors import ReaderUnavailable
from bot.extractive import Candidate
from bot.reader import MODEL_DIR, Reading, load_reader
from bot.reader_format import clean_title, question_text, sentence_text
from index.documents.chunking import Span

TRONDHEIM = [
    ("Trondheim", "Trondheim was founded in 997 as a trading post by the Viking king Olav Tryggvason."),
    ("Trondheim", "The city has a population of about 210,000 people and is home to a large university."),
    ("Oslo", "Oslo is the capital of Norway and lies at the head of the Oslofjord."),
]


def test_the_shipped_model_loads_offline_and_its_files_match_their_checksums() -> None:
    reader = load_reader(MODEL_DIR)
    assert (MODEL_DIR / "model.onnx").stat().st_size < 30_000_000
    assert (MODEL_DIR / "MODEL_CARD.md").is_file()
    assert reader.read("When was Trondheim founded?", [], TRONDHEIM[:1])


def test_it_prefers_the_sentence_that_answers_and_marks_the_answer_inside_it() -> None:
    readings = load_reader(MODEL_DIR).read("When was Trondheim founded?", [], TRONDHEIM)
    assert max(range(3), key=lambda i: readings[i].score) == 0
    best = readings[0]
    assert "997" in TRONDHEIM[0][1][best.start : best.end]
    assert readings[2].score < 0.5  # another city's sentence does not answer


def test_a_sentence_reads_the_same_whatever_else_is_read_with_it() -> None:
    reader = load_reader(MODEL_DIR)
    alone = reader.read("When was Trondheim founded?", [], TRONDHEIM[:1])[0]
    with_others = reader.read("When was Trondheim founded?", [], TRONDHEIM[::-1])[2]
    assert with_others == alone


def test_pairs_read_at_once_give_what_one_at_a_time_gives_in_order() -> None:
    question = "When was Trondheim founded?"
    one = load_reader(MODEL_DIR, workers=1).read(question, [], TRONDHEIM)
    two = load_reader(MODEL_DIR, workers=2).read(question, [], TRONDHEIM)
    assert two == one
    assert len({r.score for r in two}) == len(TRONDHEIM)  # distinct readings: the order is checked


def test_a_follow_up_is_read_with_the_conversation_before_it() -> None:
    reader = load_reader(MODEL_DIR)
    founded = [("Norway", "Trondheim was founded in 997 by Olav.")]
    after_trondheim = [
        "What is the largest city in central Norway?",
        "Trondheim is the largest city in central Norway.",
    ]
    after_oslo = ["What is the capital of Norway?", "Oslo is the capital of Norway."]
    on_thread = reader.read("When was it founded?", after_trondheim, founded)[0].score
    off_thread = reader.read("When was it founded?", after_oslo, founded)[0].score
    assert on_thread > off_thread


def copy_model(tmp_path: Path) -> Path:
    target = tmp_path / "reader"
    shutil.copytree(MODEL_DIR, target)
    return target


def test_a_damaged_model_file_is_refused_with_how_to_restore_it(tmp_path: Path) -> None:
    folder = copy_model(tmp_path)
    data = bytearray((folder / "model.onnx").read_bytes())
    data[len(data) // 2] ^= 0xFF
    (folder / "model.onnx").write_bytes(bytes(data))
    with pytest.raises(ReaderUnavailable, match="damaged.*git checkout"):
        load_reader(folder)


def test_a_missing_model_file_is_refused_with_how_to_restore_it(tmp_path: Path) -> None:
    folder = copy_model(tmp_path)
    (folder / "tokenizer.json").unlink()
    with pytest.raises(ReaderUnavailable, match="missing.*make reader"):
        load_reader(folder)


def test_citebot_ask_with_a_damaged_model_says_so_in_one_line(tmp_path: Path) -> None:
    folder = copy_model(tmp_path)
    (folder / "model.onnx").write_bytes(b"not a model")
    env = {"CITEBOT_READER_DIR": str(folder), "CITEBOT_INDEX_DIR": str(tmp_path / "none"), "HF_HUB_OFFLINE": "1"}
    done = subprocess.run([sys.executable, "-m", "ui.cli", "ask", "When?"], capture_output=True, text=True,
                          env=env | {"PATH": "/usr/bin:/bin"}, cwd=Path(__file__).resolve().parents[2])  # fmt: skip
    assert done.returncode == 1
    assert done.stderr.count("\n") == 1 and "reader model" in done.stderr and "Traceback" not in done.stderr


def test_the_pair_is_written_the_same_way_for_training_and_answering() -> None:
    assert clean_title("Grapes_of_Wrath-003") == "Grapes of Wrath"
    assert question_text("When?") == "When?"
    assert question_text("When?", ["Who founded it?", "Olav did.", "Where is it?", "In Norway."]) == (
        "When? [SEP] Where is it? In Norway. Who founded it? Olav did."
    )
    text, at = sentence_text("a_b.txt", "It rains.")
    assert text[at:] == "It rains." and text.startswith("a b")
    assert sentence_text("a_b.txt", "It rains.", "Clouds came.") == (text, at)  # a model that reads none before


def test_a_model_that_reads_the_sentence_before_gets_its_last_words_in_front_of_the_candidate() -> None:
    before = "Olav Tryggvason, a Viking king, founded Trondheim."
    text, at = sentence_text("Trondheim", "It was a trading post.", before, before_chars=20)
    assert text == "Trondheim : founded Trondheim. [SEP] It was a trading post."  # "g," of "king," dropped
    assert text[at:] == "It was a trading post."
    whole = sentence_text("Trondheim", "It was a trading post.", "Olav came.", 20)[0]
    assert whole.startswith("Trondheim : Olav came. [SEP]")


def test_the_model_folder_says_how_much_of_the_sentence_before_it_reads(tmp_path: Path) -> None:
    from bot.reader import write_checksums

    folder = copy_model(tmp_path)
    (folder / "format.json").write_text('{"before_chars": 40}', encoding="utf-8")
    assert load_reader(folder).before_chars == 0  # not listed in SHA256SUMS: not part of the model
    write_checksums(folder)
    assert load_reader(folder, workers=2).before_chars == 40
    (folder / "format.json").write_text('{"before_chars": 80}', encoding="utf-8")
    with pytest.raises(ReaderUnavailable, match="format.json is damaged"):
        load_reader(folder, workers=3)


class _ReaderSaying:
    """A stand-in reader that gives each sentence a fixed probability (its text's entry in `scores`)."""

    def __init__(self, scores: dict[str, float]) -> None:
        self.scores = scores
        self.asked: list[list[str]] = []

    def read(self, question: str, history: object, sentences: list[tuple[str, str, str]]) -> list[Reading]:
        self.asked.append([text for _, text, *_ in sentences])
        self.befores = [before for _, _, *before in sentences]
        return [Reading(self.scores[text]) for _, text, *_ in sentences]


def _candidate(text: str, cosine: float, row: int, source: str = "a.txt", before: str = "") -> Candidate:
    return Candidate(Span(source, text, row * 100, row * 100 + len(text)), cosine=cosine, lexical=0.0,
                     passage_cosine=0.0, row=row, before=before)  # fmt: skip


def _engine(reader: _ReaderSaying) -> Engine:
    engine = Engine.__new__(Engine)  # only the reader is needed to choose among given candidates
    engine.reader = reader  # type: ignore[assignment]
    return engine


def test_a_question_on_its_own_is_answered_by_the_sentence_the_reader_prefers() -> None:
    likely = _candidate("Olav founded the town in 997.", 0.5, 1)
    wordy = _candidate("The town and its founding are famous.", 0.6, 2)  # higher fitted score
    reader = _ReaderSaying({likely.sentence.text: 0.95, wordy.sentence.text: 0.05})
    chosen, reading = _engine(reader).choose("When was the town founded?", [wordy, likely], [], max_sentences=2)
    assert [c.sentence.text for c in chosen] == [likely.sentence.text] and reading.score == 0.95
    assert sorted(reader.asked[0]) == sorted([likely.sentence.text, wordy.sentence.text])


class _ReaderWithHistory(_ReaderSaying):
    """Records the conversation each read was given."""

    def read(self, question: str, history: object, sentences: list[tuple[str, str, str]]) -> list[Reading]:
        self.histories = [*getattr(self, "histories", []), history]
        return super().read(question, history, sentences)


def test_a_follow_up_is_read_with_the_conversation_and_answered_by_the_sentence_the_reader_prefers() -> None:
    likely = _candidate("Olav founded the town in 997.", 0.5, 1)
    wordy = _candidate("The town and its founding are famous.", 0.6, 2)
    reader = _ReaderWithHistory({likely.sentence.text: 0.95, wordy.sentence.text: 0.05})
    history = ["Who founded the town?", "Olav founded the town in 997."]
    chosen, reading = _engine(reader).choose("When?", [wordy, likely], history, max_sentences=1)
    assert [c.sentence.text for c in chosen] == [likely.sentence.text] and reading.score == 0.95
    assert reader.histories == [history] and sorted(reader.asked[0]) == sorted(
        [likely.sentence.text, wordy.sentence.text]
    )


def test_a_close_runner_up_is_quoted_too_but_only_from_the_same_document() -> None:
    best = _candidate("Olav founded the town in 997.", 0.5, 1)
    mine = _candidate("The founding is dated to 997 by the sagas.", 0.5, 2)
    other = _candidate("Bergen was founded in 1070.", 0.5, 3, source="b.txt")
    reader = _ReaderSaying({best.sentence.text: 0.9, mine.sentence.text: 0.8, other.sentence.text: 0.85})
    chosen, _ = _engine(reader).choose("When was it founded?", [other, mine, best], [], max_sentences=2)
    assert [c.sentence.text for c in chosen] == [best.sentence.text, mine.sentence.text]
    far = _ReaderSaying({best.sentence.text: 0.9, mine.sentence.text: 0.01, other.sentence.text: 0.85})
    chosen, _ = _engine(far).choose("When was it founded?", [other, mine, best], [], max_sentences=2)
    assert [c.sentence.text for c in chosen] == [best.sentence.text]


def test_the_answerable_probability_grows_with_the_reader_and_the_evidence() -> None:
    assert answerable(Reading(0.9), 0.5) > answerable(Reading(0.1), 0.5)
    assert answerable(Reading(0.5), 0.6) > answerable(Reading(0.5), 0.3)
    assert 0.0 < answerable(Reading(0.0), -1.0) < answerable(Reading(1.0), 1.0) < 1.0


def test_tell_me_more_has_nothing_to_read_and_keeps_the_fitted_order() -> None:
    likely = _candidate("Olav founded the town in 997.", 0.5, 1)
    wordy = _candidate("The town and its founding are famous.", 0.6, 2)
    reader = _ReaderSaying({likely.sentence.text: 0.95, wordy.sentence.text: 0.05})
    history = ["Who founded the town?", "Olav founded the town in 997."]
    chosen, _ = _engine(reader).choose("Tell me more", [wordy, likely], history, max_sentences=1)
    assert [c.sentence.text for c in chosen] == [wordy.sentence.text]


def test_the_reader_reads_each_candidate_with_the_sentence_before_it() -> None:
    founded = _candidate("He founded the town in 997.", 0.5, 2, before="Olav was a Viking king.")
    first = _candidate("Olav was a Viking king.", 0.4, 1)
    reader = _ReaderSaying({founded.sentence.text: 0.9, first.sentence.text: 0.1})
    _engine(reader).choose("When did Olav found the town?", [first, founded], [], max_sentences=1)
    pairs = dict(zip(reader.asked[0], reader.befores, strict=True))
    assert pairs == {founded.sentence.text: ["Olav was a Viking king."], first.sentence.text: [""]}


def test_a_candidates_sentence_before_is_the_one_before_it_in_its_paragraph(seed_bot: Any) -> None:
    from bot.retrieval import Query

    question = "Why can't Ukraine join NATO?"
    candidates = seed_bot.engine.gather(question, [Query(question)], top_k=5).candidates
    sentences = seed_bot.engine.stored.sentences
    followers = [c for c in candidates if c.before]
    assert followers and any(not c.before for c in candidates)  # a paragraph's first sentence has none
    for c in followers:
        before = sentences[c.row - 1]
        assert before.source == c.sentence.source and before.text == c.before


def test_the_sentence_before_is_read_only_where_the_pair_fits() -> None:
    from bot.reader_format import fitted

    reader = load_reader(MODEL_DIR)
    second, plain = "Trondheim : Olav came. [SEP] It was founded in 997.", "Trondheim : It was founded in 997."
    encoding, used = fitted(reader.tokenizer.encode, "When was it founded?", second, plain)
    assert used == second and not encoding.overflowing
    encoding, used = fitted(reader.tokenizer.encode, "When was it founded? " * 30, second, plain)
    assert used == plain
