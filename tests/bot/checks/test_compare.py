"""Comparing two eval runs: pure comparison of reports, and `citebot eval --compare` on a deliberate regression."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from bot.checks.compare import case_key, compare_reports, format_comparison
from ui.cli import main


def _case(cid: str, status: str, answer: str = "A. [1]", sources: tuple[str, ...] = ("a.txt",), **kw: Any) -> dict:  # type: ignore[type-arg]
    citations = [{"n": 1, "source": s, "quote": "A.", "start": 0, "end": 2, "score": 0.5} for s in sources]
    last = {
        "answer": answer,
        "refused": kw.get("refused", False),
        "citations": citations,
        "latency_ms": kw.get("ms", 10),
    }
    failures = ["contains_any: none of ['x'] in answer"] if status == "fail" else []
    return {"id": cid, "file": "sets/s.yaml", "status": status, "failures": failures, "answers": [last]}


def _report(*cases: dict, **summary: Any) -> dict:  # type: ignore[type-arg]
    return {"summary": {"cases": len(cases), **summary}, "cases": list(cases)}


BEFORE = _report(
    _case("keeps", "pass"),
    _case("breaks", "pass"),
    _case("heals", "fail"),
    _case("still-bad", "fail"),
    _case("moves", "pass", sources=("a.txt",)),
    _case("gone", "pass"),
    _case("refuses", "pass", refused=False, ms=10),
    passed=5,
    failed=2,
    latency_ms_p50=10.0,
)
AFTER = _report(
    _case("keeps", "pass", answer="A, reworded. [1]"),
    _case("breaks", "fail"),
    _case("heals", "pass"),
    _case("still-bad", "fail"),
    _case("moves", "pass", sources=("b.txt",)),
    _case("refuses", "pass", answer="No.", sources=(), refused=True, ms=14.5),
    _case("new-bad", "fail"),
    passed=4,
    failed=3,
    latency_ms_p50=11.25,
)


def test_compare_names_every_kind_of_change() -> None:
    data = compare_reports(BEFORE, AFTER).to_dict()
    assert data["regressed"] == ["s.yaml:breaks", "s.yaml:new-bad"]  # a known failure (still-bad) is not one
    assert data["fixed"] == ["s.yaml:heals"]
    assert data["text_changed"] == ["s.yaml:keeps", "s.yaml:refuses"]
    assert data["sources_changed"] == ["s.yaml:moves", "s.yaml:refuses"]
    assert data["refusal_changed"] == ["s.yaml:refuses"]
    assert (data["added"], data["removed"]) == (["s.yaml:new-bad"], ["s.yaml:gone"])
    rows = {name: (old, new, delta) for name, old, new, delta in data["summary"]}
    assert rows["passed"] == (5, 4, "-1") and rows["latency_ms_p50"] == (10.0, 11.25, "+1.25")
    assert rows["refused"] == (0, 1, "+1") and rows["unchecked"] == (None, None, "")
    moved = next(c for c in data["cases"] if c["key"] == "s.yaml:refuses")
    assert (moved["latency_before"], moved["latency_after"]) == (10.0, 14.5)
    json.dumps(data)  # goes into the JSON report as is


def test_format_comparison_is_a_table_then_the_changed_cases() -> None:
    text = format_comparison(compare_reports(BEFORE, AFTER))
    lines = text.splitlines()
    assert lines[0].split() == ["before", "after", "change"] and lines[2].split() == ["passed", "5", "4", "-1"]
    assert "Regressed (2):\n  s.yaml:breaks (was pass): contains_any" in text
    assert "s.yaml:new-bad (was new)" in text and "Refusal changed (1):\n  s.yaml:refuses: answered -> refused" in text
    assert "s.yaml:moves: ['a.txt'] -> ['b.txt']" in text and "Removed (1):\n  s.yaml:gone" in text


def test_case_key_and_old_reports_without_status() -> None:
    assert case_key({"id": "x", "file": "C:\\sets\\a.yaml"}) == "a.yaml:x" and case_key({"id": "x"}) == "x"
    old = {"cases": [{"id": "x", "passed": True, "answers": []}]}
    new = {"cases": [{"id": "x", "passed": False, "failures": ["f"], "answers": []}]}
    assert compare_reports(old, new).to_dict()["regressed"] == ["x"]


SET = """
- id: jupiter
  question: Which planet is the largest?
  expect: {contains_any: [Jupiter], sources: [space/planets.md]}
- id: mars
  question: Why is Mars called the red planet?
  expect: {contains_any: [iron oxide]}
- id: off
  question: Quantum chromodynamics lattice?
  expect: {refusal: true}
"""


@pytest.mark.usefixtures("hashing_model")
def test_a_deliberate_regression_fails_the_comparison_and_is_named(
    capsys: pytest.CaptureFixture[str], docs_dir: Path, tmp_path: Path
) -> None:
    qs, ix = tmp_path / "set.yaml", str(tmp_path / "ix")
    qs.write_text(SET, encoding="utf-8")
    old, new, page = tmp_path / "old.json", tmp_path / "new.json", tmp_path / "report.html"
    assert main(["index", str(docs_dir), "--index-dir", ix, "-q"]) == 0
    assert main(["eval", str(qs), "--index-dir", ix, "--report", str(old)]) == 0
    assert main(["eval", str(qs), "--index-dir", ix, "--report", str(new), "--compare", str(old)]) == 0
    assert "Regressed" not in capsys.readouterr().err

    planets = docs_dir / "space" / "planets.md"  # the regression: the fact moves out of the documents
    planets.write_text(planets.read_text(encoding="utf-8").replace("Jupiter is the largest", "Saturn is a"), "utf-8")
    assert main(["index", str(docs_dir), "--index-dir", ix, "-q"]) == 0
    argv = ["eval", str(qs), "--index-dir", ix, "--report", str(new), "--compare", str(old), "--html", str(page)]
    assert main(argv) == 1
    out, err = capsys.readouterr()
    assert "FAIL jupiter" in out and "Regressed (1):\n  set.yaml:jupiter (was pass)" in err
    report = json.loads(new.read_text(encoding="utf-8"))
    assert report["comparison"]["regressed"] == ["set.yaml:jupiter"] and report["comparison"]["against"] == str(old)
    assert "set.yaml:jupiter" in report["comparison"]["text_changed"]
    html = page.read_text(encoding="utf-8")
    assert "<h3>before</h3>" in html and "regressed" in html and "Jupiter is the largest planet" in html

    assert main(["eval", str(qs), "--index-dir", ix, "--compare", str(new)]) == 0, "a known failure is no regression"


def test_compare_with_a_missing_or_wrong_report_is_an_input_error(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    qs = tmp_path / "set.yaml"
    qs.write_text(SET, encoding="utf-8")
    assert main(["eval", str(qs), "--compare", str(tmp_path / "none.json")]) == 2
    assert "write one first with `citebot eval SET --report" in capsys.readouterr().err
    (tmp_path / "x.json").write_text("[1]", encoding="utf-8")
    assert main(["eval", str(qs), "--compare", str(tmp_path / "x.json")]) == 2
    assert "is not a `citebot eval --report` file" in capsys.readouterr().err
