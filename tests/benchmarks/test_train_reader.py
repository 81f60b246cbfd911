"""The reader's training command, end to end on a tiny sample; and the pairs it is trained on."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TRAIN = ROOT.parent / "shared" / "data" / "train"
sys.path.insert(0, str(ROOT / "benchmarks"))

from reader_data import BadTrainingFile, Lexical, _sentences, pairs, pronoun_version, read, swapped  # noqa: E402

ARTICLE = {
    "title": "Trondheim",
    "paragraphs": [
        {
            "context": "Trondheim was founded in 997 by Olav Tryggvason. It was the capital of Norway until 1217. "
            "The city lies on the Trondheimsfjord.",
            "qas": [
                {
                    "id": "1",
                    "question": "When was Trondheim founded?",
                    "answers": [{"text": "997", "answer_start": 25}],
                },
                {
                    "id": "2",
                    "question": "Until when was Trondheim the capital?",
                    "answers": [{"text": "1217", "answer_start": 84}],
                },
            ],
        },
        {"context": "The Nidaros Cathedral was built over the burial site of Saint Olav.", "qas": []},
    ],
}
OTHER = {"title": "Oslo", "paragraphs": [{"context": "Oslo is the capital of Norway today.", "qas": []}]}


def test_each_question_gives_its_answer_sentence_and_sentences_without_the_answer() -> None:
    made = list(pairs([ARTICLE, OTHER], rng=random.Random(0), per_article=None, follow_share=0.0))
    positives = [p for p in made if p.label == 1.0]
    assert {p.second[p.start : p.end] for p in positives} == {"997", "1217"}
    negatives = [p for p in made if p.label == 0.0]
    assert negatives and not any("997" in p.second and "founded" in p.first for p in negatives)
    assert any(p.second.startswith("Oslo : ") for p in negatives)  # another article: "not in the documents"


def test_the_lexical_negative_is_the_best_match_in_another_article_without_the_answer() -> None:
    bergen = {"title": "Bergen", "paragraphs": [{"context": "Bergen was founded in 1070 by Olav Kyrre. "
              "Bergen has rain.", "qas": []}]}  # fmt: skip
    articles = [ARTICLE, OTHER, bergen]
    pool = [(a["title"], s) for a in articles for p in a["paragraphs"] for s in _sentences(p["context"])]
    lexical = Lexical(pool)
    found = lexical.best({"founded", "olav", "trondheim"}, "Trondheim", "997")
    assert found is not None and found[0] == "Bergen" and found[1].text.startswith("Bergen was founded")
    found = lexical.best({"founded", "olav"}, "Bergen", "1070")  # never its own article
    assert found is not None and found[0] == "Trondheim" and "997" in found[1].text
    found = lexical.best({"founded", "olav"}, "Bergen", "997")  # nor a sentence with the answer: the next match
    assert found is not None and found[1].text.startswith("The Nidaros Cathedral")
    assert lexical.best({"nothing"}, "Bergen", "x") is None
    made = list(pairs(articles, rng=random.Random(0), per_article=None, follow_share=0.0, far="lexical"))
    founded = [p for p in made if p.first == "When was Trondheim founded?" and p.label == 0.0]
    assert any(p.second.startswith("Bergen : Bergen was founded") for p in founded)


def test_a_follow_up_names_its_subject_with_a_pronoun() -> None:
    turned = pronoun_version("Until when was Trondheim the capital?", "Trondheim", "", random.Random(1))
    assert turned is not None and "Trondheim" not in turned and turned.startswith("Until when was ")


def test_a_swapped_name_makes_an_unanswerable_question_of_the_same_words() -> None:
    names = ["Oslo", "Bergen", "1217", "Trondheim"]
    changed = swapped("When was Trondheim founded as a town?", "Trondheim was founded in 997.", names, random.Random(0))
    assert changed in ("When was Oslo founded as a town?", "When was Bergen founded as a town?")
    assert swapped("When was it founded?", "Trondheim was founded in 997.", names, random.Random(0)) is None


def test_swapped_questions_are_negatives_for_the_sentence_that_answered_the_original() -> None:
    made = list(pairs([ARTICLE, OTHER], rng=random.Random(0), per_article=None, follow_share=0.0, swap_share=1.0))
    swaps = [p for p in made if p.kind == "swapped"]
    assert swaps and all(p.label == 0.0 and p.start < 0 for p in swaps)
    originals = {p.second for p in made if p.label == 1.0}
    assert all(p.second in originals and "Trondheim" not in p.first for p in swaps)


def test_a_questions_pairs_share_a_group_and_grouped_batches_keep_each_question_whole() -> None:
    from train_reader import BATCH, batches

    made = list(pairs([ARTICLE, OTHER] * 8, rng=random.Random(0), per_article=None, follow_share=0.0,
                      swap_share=1.0, first_group=100))  # fmt: skip
    groups = {p.group for p in made if p.kind != "swapped"}
    assert min(groups) == 100 and len(groups) == sum(p.label == 1.0 for p in made)
    assert all(p.group == -1 for p in made if p.kind == "swapped")
    for group in groups:
        members = [p for p in made if p.group == group]
        assert sum(p.label == 1.0 for p in members) == 1 and len({p.first for p in members}) == 1
    plan = batches(made, random.Random(0), grouped=True)
    assert sorted(id(p) for b in plan for p in b) == sorted(id(p) for p in made)
    where = {p.group: n for n, b in enumerate(plan) for p in b if p.group >= 0}
    assert all(where[p.group] == n for n, b in enumerate(plan) for p in b if p.group >= 0)
    assert sum(len(b) < BATCH for b in plan) <= 1  # whole questions until BATCH pairs; the rest last


def test_the_listwise_loss_falls_as_the_answer_sentence_outscores_its_negatives() -> None:
    import torch
    from reader_data import Pair
    from train_reader import listwise

    batch = [Pair("q1", "a", 1.0, group=1), Pair("q1", "b", 0.0, group=1), Pair("q2", "c", 1.0, group=2),
             Pair("q2", "d", 0.0, group=2), Pair("q3", "e", 0.0)]  # fmt: skip
    low = listwise(torch.tensor([0.0, 2.0, 0.0, 2.0, 9.0]), batch)
    high = listwise(torch.tensor([2.0, 0.0, 2.0, 0.0, -9.0]), batch)
    assert float(high) < float(low)
    assert abs(float(high) - float(torch.log1p(torch.exp(torch.tensor(-2.0))))) < 1e-6  # -log softmax, per question


def test_a_training_file_that_differs_from_the_readme_is_refused(tmp_path: Path) -> None:
    (tmp_path / "nq-open-oracle-train.json.gz").write_bytes(b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03\x03\x00"
                                                             b"\x00\x00\x00\x00\x00\x00\x00\x00")  # fmt: skip
    with pytest.raises(BadTrainingFile, match="sha256"):
        read(tmp_path, "nq")


@pytest.mark.slow
@pytest.mark.skipif(not TRAIN.is_dir(), reason="../shared/data/train is not beside the repository")
def test_the_training_command_runs_end_to_end_on_a_tiny_sample(tmp_path: Path) -> None:
    import onnx

    from bot.reader import load_reader

    out, model = tmp_path / "out", tmp_path / "model"
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "train_reader.py"), "--tiny", "--out", str(out),
         "--model-dir", str(model), "--layers", "2"],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert (out / "dev" / "squad.json").is_file() and (out / "fresh" / "tydi.json").is_file()
    readings = load_reader(model).read("When was it founded?", [], [("Trondheim", "It was founded in 997.")])
    assert 0.0 <= readings[0].score <= 1.0
    weight_scales = [i for i in onnx.load(model / "model.onnx").graph.initializer
                     if "MatMul" in i.name and i.name.endswith("_scale")]  # fmt: skip
    assert weight_scales and all(len(i.dims) == 1 and i.dims[0] > 1 for i in weight_scales)  # one per column
    assert "2 of its 6 layers kept" in (model / "MODEL_CARD.md").read_text(encoding="utf-8")
    from train_reader import write_card

    record = json.loads((out / "training.json").read_text(encoding="utf-8"))
    write_card(tmp_path, {**record, "loss": "listwise", "listwise_weight": 0.3})
    assert "+ 0.3 x cross-entropy of the answer sentence" in (tmp_path / "MODEL_CARD.md").read_text(encoding="utf-8")


@pytest.mark.skipif(not TRAIN.is_dir(), reason="../shared/data/train is not beside the repository")
def test_the_held_back_splits_are_written_alone_and_share_no_article(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "train_reader.py"), "--splits-only", "--out", str(tmp_path)],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert not (tmp_path / "checkpoint.pt").exists()
    for name in ("squad", "tydi", "nq"):
        titles = [{a["title"] for a in json.loads((tmp_path / s / f"{name}.json").read_text())["data"]}
                  for s in ("dev", "fresh")]  # fmt: skip
        assert titles[0] and titles[1] and not titles[0] & titles[1]


def test_with_before_chars_each_sentence_is_read_after_the_end_of_the_one_before_it() -> None:
    plain = list(pairs([ARTICLE, OTHER], rng=random.Random(0), per_article=None, follow_share=0.0))
    before = list(pairs([ARTICLE, OTHER], rng=random.Random(0), per_article=None, follow_share=0.0, before_chars=30))
    assert [p.first for p in plain] == [p.first for p in before]  # the same questions and negatives, in order
    capital = next(p for p in before if p.label == 1.0 and p.second[p.start : p.end] == "1217")
    assert capital.second.startswith("Trondheim : in 997 by Olav Tryggvason. [SEP] It was the capital")
    founded = next(p for p in before if p.label == 1.0 and p.second[p.start : p.end] == "997")
    assert founded.second.startswith("Trondheim : Trondheim was founded")  # a paragraph's first sentence: none


def test_a_pair_too_long_with_the_sentence_before_is_trained_without_it_and_its_answer_still_marked() -> None:
    from reader_data import Pair
    from train_reader import encode, model_path, tokenizer

    from bot.reader_format import sentence_text

    tok = tokenizer(model_path())
    sentence, before = "It was founded in 997 by Olav.", "Trondheim lies in the middle of Norway, by a fjord."
    second, at = sentence_text("Trondheim", sentence, before, 120)
    plain = sentence_text("Trondheim", sentence)[0]
    start = at + sentence.index("997")
    short = Pair("When was it founded?", second, 1.0, start, start + 3, plain=plain)
    long = Pair("When was it founded? [SEP] " + "Who built the old cathedral of the town? " * 14, second, 1.0,
                start, start + 3, plain=plain)  # fmt: skip
    batch = encode(tok, [short, long])
    for row in range(2):
        ids = batch["input_ids"][row].tolist()
        marked = tok.decode(ids[int(batch["start"][row]) : int(batch["end"][row]) + 1])
        assert marked == "997"
    assert "fjord" in tok.decode(batch["input_ids"][0].tolist())
    assert "fjord" not in tok.decode(batch["input_ids"][1].tolist())  # dropped, the sentence kept whole
    assert "olav" in tok.decode(batch["input_ids"][1].tolist())
