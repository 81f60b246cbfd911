"""The HTML eval report: one self-contained file (inline CSS and SVG, no script, nothing fetched), all text escaped."""

from __future__ import annotations

from collections import defaultdict
from html import escape
from typing import Any

from bot.checks.charts import Bar, bar_chart
from bot.checks.compare import (
    CaseChange,
    Comparison,
    case_key,
    case_status,
    compare_reports,
    file_name,
    summary_rows,
)

Report = dict[str, Any]
# The policy forbids every fetch and every script: the report can be opened from anywhere, offline, safely.
CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:"
CSS = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ddd;padding:3px 8px;text-align:left;
vertical-align:top}th{background:#f4f4f4}.pass{color:#176b2c;fill:#3a9a55}.fail{color:#a4161a;fill:#d9534f}
.unchecked,.none{color:#8a6d00;fill:#c9a227}.was{fill:#999}.lbl,.val{font-size:12px;fill:#333}
.chart{display:inline-block;margin:0 2em 1em 0}figcaption{font-weight:600;margin-bottom:4px}
.side{display:grid;grid-template-columns:1fr 1fr;gap:1em}.answer{white-space:pre-wrap;background:#fafafa;
padding:6px;border-left:3px solid #ccc}blockquote{margin:.3em 0 .8em 1em;white-space:pre-wrap;color:#444}
mark{background:#fff1a8}details{margin:.4em 0;border-bottom:1px solid #eee;padding-bottom:.4em}
summary{cursor:pointer}.tag{font-size:12px;padding:0 4px;border-radius:3px;background:#eee;margin-left:4px}
.regressed{background:#f8d7da}.fixed{background:#d4edda}h3{font-size:13px;margin:.4em 0}
"""


def render_html(report: Report, *, before: Report | None = None, title: str = "citebot eval") -> str:
    """The whole report page; with `before`, each case shows the earlier answer beside the new one."""
    comparison = compare_reports(before, report) if before is not None else None
    changes = {c.key: c for c in comparison.changes} if comparison else None  # None: not comparing
    summary = report.get("summary", {})
    heading = f"{title}: {summary.get('passed', 0)}/{summary.get('cases', 0)} passed"
    old_cases = {case_key(c): c for c in (before or {}).get("cases", [])}
    body = [
        f"<h1>{escape(heading)}</h1>",
        _summary_table(report, comparison),
        _charts(report, before),
        _cases_table(report, changes or {}),
        "<h2>Answers</h2>",
        *(_case_details(i, c, old_cases.get(case_key(c)), changes) for i, c in enumerate(report.get("cases", []))),
    ]
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">'
        f"<title>{escape(heading)}</title><style>{CSS}</style></head><body>{''.join(body)}</body></html>\n"
    )


def _summary_table(report: Report, comparison: Comparison | None) -> str:
    if comparison is None:
        rows = "".join(f"<tr><th>{escape(k)}</th><td>{_text(v)}</td></tr>" for k, v in report["summary"].items())
        return f"<h2>Summary</h2><table>{rows}</table>"
    head = "<tr><th></th><th>before</th><th>after</th><th>change</th></tr>"
    cells = (
        f"<tr><th>{escape(name)}</th><td>{_text(old)}</td><td>{_text(new)}</td><td>{escape(delta)}</td></tr>"
        for name, old, new, delta in summary_rows(comparison)
    )
    lists = "".join(_change_list(comparison, kind) for kind in ("regressed", "fixed", "sources_changed"))
    return f"<h2>Summary</h2><table>{head}{''.join(cells)}</table>{lists}"


def _change_list(comparison: Comparison, kind: str) -> str:
    keys = [c.key for c in comparison.where(kind)]
    if not keys:
        return ""
    return f"<p><b>{escape(kind.replace('_', ' '))} ({len(keys)}):</b> {escape(', '.join(keys))}</p>"


def _charts(report: Report, before: Report | None) -> str:
    """Latency per case (the grey line: before) and pass rate per file."""
    old = {case_key(c): c for c in (before or {}).get("cases", [])}
    latency = [
        Bar(case_key(c), _latency(c), _latency(old[case_key(c)]) if case_key(c) in old else None, case_status(c))
        for c in report.get("cases", [])
    ]
    rates, old_rates = _pass_rates(report), _pass_rates(before or {})
    files = [Bar(f, rate, old_rates.get(f), "pass" if rate == 100 else "fail") for f, rate in rates.items()]
    return (
        "<h2>Charts</h2>"
        + bar_chart("Latency per case (all turns)", latency, unit="ms")
        + bar_chart("Pass rate per file (checked cases)", files, unit="%", top=100.0)
    )


def _latency(case: dict[str, Any]) -> float:
    return round(sum(float(a.get("latency_ms", 0.0)) for a in case.get("answers", [])), 2)


def _pass_rates(report: Report) -> dict[str, float]:
    """Share of checked cases that passed, per file, in percent.

    Example: cases a.yaml pass, a.yaml fail, b.yaml pass -> {"a.yaml": 50.0, "b.yaml": 100.0}
    """
    counts: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for case in report.get("cases", []):
        status = case_status(case)
        if status != "unchecked":
            name = file_name(case) or "(no file)"
            counts[name][0] += status == "pass"
            counts[name][1] += 1
    return {name: round(100.0 * ok / total, 1) for name, (ok, total) in counts.items()}


def _cases_table(report: Report, changes: dict[str, CaseChange]) -> str:
    head = "<tr><th>case</th><th>status</th><th>change</th><th>failing checks</th><th>latency ms</th></tr>"
    rows = []
    for i, case in enumerate(report.get("cases", [])):
        key, status = case_key(case), case_status(case)
        change = _change_tags(changes.get(key))
        failures = "<br>".join(escape(f) for f in case.get("failures", []))
        rows.append(
            f'<tr><td><a href="#case-{i}">{escape(key)}</a></td><td class="{escape(status)}">{escape(status)}</td>'
            f"<td>{change}</td><td>{failures}</td><td>{_latency(case):g}</td></tr>"
        )
    return f"<h2>Cases</h2><table>{head}{''.join(rows)}</table>"


def _change_tags(change: CaseChange | None) -> str:
    if change is None:
        return ""
    kinds = ("regressed", "fixed", "refusal_changed", "sources_changed", "text_changed")
    tags = [k for k in kinds if getattr(change, k)] + (["new"] if change.before is None else [])
    return "".join(f'<span class="tag {k}">{escape(k.replace("_", " "))}</span>' for k in tags)


def _case_details(
    i: int, case: dict[str, Any], old: dict[str, Any] | None, changes: dict[str, CaseChange] | None
) -> str:
    """One case, open when it failed: its questions, note, and last answer (beside the earlier one when comparing)."""
    status = case_status(case)
    questions = "".join(f"<li>{escape(q)}</li>" for q in case.get("turns", []))
    note = f"<p><i>note: {escape(case['note'])}</i></p>" if case.get("note") else ""
    body = _answer(case)
    if changes is not None:
        body = f'<div class="side"><div><h3>before</h3>{_answer(old)}</div><div><h3>after</h3>{body}</div></div>'
    opened = " open" if status == "fail" else ""
    summary = f"{escape(case_key(case))} <span class='{escape(status)}'>{escape(status)}</span>"
    summary += _change_tags((changes or {}).get(case_key(case)))
    return f'<details id="case-{i}"{opened}><summary>{summary}</summary><ol>{questions}</ol>{note}{body}</details>'


def _answer(case: dict[str, Any] | None) -> str:
    """The last answer of a case, then each citation highlighted inside its passage."""
    if not case or not case.get("answers"):
        return "<p><i>not in this run</i></p>"
    answer = case["answers"][-1]
    label = "<p><b>refused</b></p>" if answer.get("refused") else ""
    cited = "".join(_citation(c, answer.get("passages", [])) for c in answer.get("citations", []))
    return f'{label}<div class="answer">{escape(str(answer.get("answer", "")))}</div>{cited}'


def _citation(citation: dict[str, Any], passages: list[dict[str, Any]]) -> str:
    """[n] source, and the quote marked in the passage around it (or alone when no passage holds it)."""
    start, end = int(citation["start"]), int(citation["end"])
    around = next(
        (p for p in passages if p["source"] == citation["source"] and p["start"] <= start and end <= p["end"]), None
    )
    if around is None:
        body = f"<mark>{escape(citation['quote'])}</mark>"
    else:
        text, i, j = around["text"], start - around["start"], end - around["start"]
        body = f"{escape(text[:i])}<mark>{escape(text[i:j])}</mark>{escape(text[j:])}"
    head = f"<b>[{int(citation['n'])}]</b> <code>{escape(citation['source'])}</code> {start}-{end}"
    return f"<p>{head}</p><blockquote>{body}</blockquote>"


def _text(value: Any) -> str:
    return "-" if value is None else escape(str(value))
