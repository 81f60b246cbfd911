"""The HTML eval report: self-contained, escaped, charts, and before/after only when comparing."""

from __future__ import annotations

import re

from bot.checks.charts import Bar, bar_chart
from bot.checks.report import CSP, render_html

TEXT = "Before. The gate opens <b>at dawn</b>. After."
QUOTE = "The gate opens <b>at dawn</b>."


def _report(status: str, answer: str = f"{QUOTE} [1]", ms: float = 12.5) -> dict:  # type: ignore[type-arg]
    start = 100 + TEXT.index(QUOTE)
    citation = {"n": 1, "source": "gate<x>.md", "quote": QUOTE, "start": start, "end": start + len(QUOTE), "score": 0.7}
    passage = {"source": "gate<x>.md", "text": TEXT, "start": 100, "end": 100 + len(TEXT), "score": 0.6}
    last = {"answer": answer, "refused": False, "citations": [citation], "passages": [passage], "latency_ms": ms}
    failures = ["contains_any: none of ['<dusk>'] in answer"] if status == "fail" else []
    case = {"id": "gate", "file": "q/set.yaml", "turns": ["When <now>?"], "status": status, "failures": failures}
    other = {"id": "note", "file": "q/more.yaml", "turns": ["Q?"], "status": "unchecked", "failures": [],
             "note": "marked <wrong>", "answers": [dict(last, citations=[], passages=[])]}  # fmt: skip
    return {"summary": {"cases": 2, "passed": int(status == "pass"), "failed": int(status == "fail")},
            "cases": [case | {"answers": [last]}, other]}  # fmt: skip


def test_report_is_self_contained_and_escapes_every_text() -> None:
    page = render_html(_report("fail"))
    assert f'content="{CSP}"' in page and "<script" not in page
    assert not re.search(r"(src|href)=\"(?!#)", page), "only in-page links"
    assert "<b>at dawn</b>" not in page and "gate&lt;x&gt;.md" in page and "When &lt;now&gt;?" in page
    assert "Before. <mark>The gate opens &lt;b&gt;at dawn&lt;/b&gt;.</mark> After." in page
    assert "none of [&#x27;&lt;dusk&gt;&#x27;]" in page and "note: marked &lt;wrong&gt;" in page
    assert '<details id="case-0" open>' in page and '<details id="case-1">' in page, "failures open"
    assert "<h3>before</h3>" not in page and page.count("<svg") == 2


def test_pass_rate_per_file_skips_unchecked_and_compare_shows_both_sides() -> None:
    page = render_html(_report("fail", answer="Later. [1]", ms=20.0), before=_report("pass"))
    assert "citebot eval: 0/2 passed" in page
    assert "<h3>before</h3>" in page and "<h3>after</h3>" in page and "Later. [1]" in page
    assert "set.yaml:gate" in page and ">0 % (was 100)<" in page and "more.yaml" not in page.split("Pass rate")[1][:600]
    assert "regressed (1):</b> set.yaml:gate" in page and '<span class="tag regressed">' in page
    assert "20 ms (was 12.5)" in page


def test_bar_chart_scales_and_escapes_labels() -> None:
    svg = bar_chart("T<1>", [Bar("a<b>", 50.0), Bar("c", 100.0, before=25.0, kind="fail")], unit="ms")
    assert "T&lt;1&gt;" in svg and "a&lt;b&gt;" in svg and 'width="180.0"' in svg and 'width="360.0"' in svg
    assert 'class="was"' in svg and 'width="90.0"' in svg and "100 ms (was 25)" in svg
