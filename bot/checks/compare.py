"""Compare two `citebot eval` reports: what started failing or passing, changed answers, latency and refusals."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from typing import Any

Report = dict[str, Any]


@dataclass(frozen=True)
class CaseChange:
    """One case in both runs (or only one): its status, answer, sources, refusal and latency before and after."""

    key: str
    before: str | None  # "pass" | "fail" | "unchecked", None when the case is new
    after: str | None  # None when the case was removed
    text_changed: bool = False
    sources_before: tuple[str, ...] = ()
    sources_after: tuple[str, ...] = ()
    refused_before: bool | None = None
    refused_after: bool | None = None
    latency_before: float | None = None
    latency_after: float | None = None
    failures: tuple[str, ...] = ()

    @property
    def regressed(self) -> bool:
        """Fails now and did not fail before (passed, unchecked or new): a known failure is not a regression."""
        return self.after == "fail" and self.before != "fail"

    @property
    def fixed(self) -> bool:
        return self.before == "fail" and self.after == "pass"

    @property
    def sources_changed(self) -> bool:
        return self.before is not None and self.after is not None and self.sources_before != self.sources_after

    @property
    def refusal_changed(self) -> bool:
        return self.before is not None and self.after is not None and self.refused_before != self.refused_after


@dataclass(frozen=True)
class Comparison:
    """Every case of both runs, and the two summaries."""

    changes: list[CaseChange]
    before: dict[str, Any]
    after: dict[str, Any]

    def where(self, kind: str) -> list[CaseChange]:
        """Cases that `regressed`, were `fixed`, or whose `text_changed`, `sources_changed`, `refusal_changed`."""
        return [c for c in self.changes if getattr(c, kind)]

    def to_dict(self) -> dict[str, Any]:
        """The `comparison` section of the new report."""
        kinds = ("regressed", "fixed", "text_changed", "sources_changed", "refusal_changed")
        return {
            **{kind: [c.key for c in self.where(kind)] for kind in kinds},
            "added": [c.key for c in self.changes if c.before is None],
            "removed": [c.key for c in self.changes if c.after is None],
            "summary": summary_rows(self),
            "cases": [asdict(c) for c in self.changes],
        }


def case_key(case: dict[str, Any]) -> str:
    """How a case is matched across runs: its file's name and its id.

    Example: {"file": "tests/questions/seed.yaml", "id": "nato"} -> "seed.yaml:nato"
    """
    name = file_name(case)
    return f"{name}:{case['id']}" if name else str(case["id"])


def file_name(case: dict[str, Any]) -> str:
    """The name of a report case's question-set file ("" in reports from before files were recorded)."""
    return str(case.get("file") or "").replace("\\", "/").rsplit("/", 1)[-1]


def case_status(case: dict[str, Any]) -> str:
    """A report case's status (reports from before `status` existed only say `passed`)."""
    return str(case.get("status") or ("pass" if case.get("passed") else "fail"))


def compare_reports(before: Report, after: Report) -> Comparison:
    """Match the cases of two reports by file and id, and describe each one's change."""
    old = {case_key(c): c for c in before.get("cases", [])}
    new = {case_key(c): c for c in after.get("cases", [])}
    keys = list(new) + [k for k in old if k not in new]
    changes = [_change(k, old.get(k), new.get(k)) for k in keys]
    return Comparison(changes, before.get("summary", {}), after.get("summary", {}))


def _change(key: str, old: dict[str, Any] | None, new: dict[str, Any] | None) -> CaseChange:
    a, b = _last(old), _last(new)
    return CaseChange(
        key,
        case_status(old) if old else None,
        case_status(new) if new else None,
        text_changed=bool(a and b and a.get("answer") != b.get("answer")),
        sources_before=_sources(a),
        sources_after=_sources(b),
        refused_before=a.get("refused") if a else None,
        refused_after=b.get("refused") if b else None,
        latency_before=_latency(old),
        latency_after=_latency(new),
        failures=tuple(new.get("failures", [])) if new else (),
    )


def _last(case: dict[str, Any] | None) -> dict[str, Any] | None:
    answers = case.get("answers") if case else None
    return answers[-1] if answers else None


def _sources(answer: dict[str, Any] | None) -> tuple[str, ...]:
    return tuple(sorted({c["source"] for c in answer.get("citations", [])})) if answer else ()


def _latency(case: dict[str, Any] | None) -> float | None:
    """A case's latency: all of its turns, in ms."""
    if not case or not case.get("answers"):
        return None
    return round(sum(float(a.get("latency_ms", 0.0)) for a in case["answers"]), 2)


def summary_rows(comparison: Comparison) -> list[tuple[str, Any, Any, str]]:
    """(measure, before, after, change) rows: pass counts, refusals, latency percentiles."""
    rows = []
    for key in ("cases", "passed", "failed", "unchecked", "latency_ms_p50", "latency_ms_p95"):
        old, new = comparison.before.get(key), comparison.after.get(key)
        rows.append((key, old, new, _delta(old, new)))
    refused = [sum(bool(c.refused_before) for c in comparison.changes if c.before is not None)]
    refused.append(sum(bool(c.refused_after) for c in comparison.changes if c.after is not None))
    rows.append(("refused", refused[0], refused[1], _delta(refused[0], refused[1])))
    return rows


def _delta(old: Any, new: Any) -> str:
    """Example: (9.3, 9.85) -> "+0.55"; (None, 3) -> "" """
    if not isinstance(old, int | float) or not isinstance(new, int | float):
        return ""
    diff = round(new - old, 2)
    return f"{diff:+g}" if diff else "0"


def format_comparison(comparison: Comparison) -> str:
    """The summary table and the changed cases, for stderr."""
    lines = [f"{'':16}{'before':>10}{'after':>10}{'change':>10}"]
    lines += [
        f"{name:16}{_cell(old):>10}{_cell(new):>10}{delta:>10}" for name, old, new, delta in summary_rows(comparison)
    ]
    lines += _listing("Regressed", comparison.where("regressed"), _with_failures)
    lines += _listing("Fixed", comparison.where("fixed"), lambda c: c.key)
    lines += _listing("Refusal changed", comparison.where("refusal_changed"), _refusal)
    lines += _listing("Cited sources changed", comparison.where("sources_changed"), _sources_line)
    lines += _listing("Answer text changed", comparison.where("text_changed"), lambda c: c.key)
    lines += _listing("New", [c for c in comparison.changes if c.before is None], lambda c: f"{c.key} ({c.after})")
    lines += _listing("Removed", [c for c in comparison.changes if c.after is None], lambda c: c.key)
    return "\n".join(lines)


def _cell(value: Any) -> str:
    return "-" if value is None else str(value)


def _listing(title: str, changes: Sequence[CaseChange], line: Callable[[CaseChange], str]) -> list[str]:
    if not changes:
        return []
    return [f"\n{title} ({len(changes)}):", *(f"  {line(c)}" for c in changes)]


def _with_failures(change: CaseChange) -> str:
    return f"{change.key} (was {change.before or 'new'}): {'; '.join(change.failures)}"


def _refusal(change: CaseChange) -> str:
    word = {True: "refused", False: "answered", None: "-"}
    return f"{change.key}: {word[change.refused_before]} -> {word[change.refused_after]}"


def _sources_line(change: CaseChange) -> str:
    return f"{change.key}: {list(change.sources_before)} -> {list(change.sources_after)}"
