"""The project's own CoQA-style conversations (data/dialogues*.json) hold what benchmarks/quality.py relies on."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

DATA = Path(__file__).resolve().parents[2] / "data"


@pytest.mark.parametrize("name", ["dialogues.json", "dialogues_unseen.json"])
def test_every_gold_span_is_the_story_text_it_names(name: str) -> None:
    dialogues = json.loads((DATA / name).read_text(encoding="utf-8"))["dialogues"]
    assert len({d["id"] for d in dialogues}) == len(dialogues) >= 4
    for d in dialogues:
        assert len(d["turns"]) >= 12
        for turn in d["turns"]:
            assert turn["kind"] in {"span", "yesno", "no_span"}
            if turn["kind"] != "no_span":
                assert d["story"][turn["span_start"] : turn["span_end"]] == turn["rationale"]
