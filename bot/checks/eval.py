"""Question sets: load YAML cases, run them against a Bot, and report what passed and why not."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.conversation import History
from bot.errors import CitebotError
from bot.types import Answer

CASE_KEYS = {"id", "question", "turns", "expect", "note"}
EXPECT_KEYS = {"contains_any", "contains_all", "sources", "refusal"}
AnswerFn = Callable[[str, History], Answer]


class QuestionSetError(CitebotError):
    """A question-set file is malformed; the message names the file, case and key."""


@dataclass(frozen=True)
class Expect:
    """What a case's (last) answer must satisfy."""

    contains_any: tuple[str, ...] = ()
    contains_all: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    refusal: bool | None = None


@dataclass(frozen=True)
class Case:
    """One question (or a conversation of `turns`) and its expectation; a case with none is only run, not checked."""

    id: str
    turns: tuple[str, ...]
    expect: Expect
    file: str = ""
    note: str = ""  # free text for people, e.g. why a saved case was marked wrong

    @property
    def checked(self) -> bool:
        return self.expect != Expect()


@dataclass(frozen=True)
class CaseResult:
    """The outcome of one case: failures are human-readable reasons (empty when it passed)."""

    case: Case
    answers: list[Answer]
    failures: list[str] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures

    @property
    def status(self) -> str:
        """One of pass, fail, unchecked (a case without expectations: run and reported, never failed)."""
        if not self.case.checked:
            return "unchecked"
        return "pass" if self.passed else "fail"


def load_question_set(path: Path) -> list[Case]:
    """Read and validate a YAML question set."""
    import yaml

    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise QuestionSetError(f"{path}: cannot read question set ({exc})") from exc
    if not isinstance(data, list):
        raise QuestionSetError(f"{path}: expected a list of cases, got {type(data).__name__}")
    cases = [_parse_case(path, i, raw) for i, raw in enumerate(data)]
    seen: set[str] = set()
    for case in cases:
        if case.id in seen:
            raise QuestionSetError(f"{path}: duplicate case id {case.id!r}")
        seen.add(case.id)
    return cases


def _parse_case(path: Path, index: int, raw: Any) -> Case:
    """One case from its YAML mapping, with errors naming file, case and key."""
    where = f"{path}: case {raw.get('id', f'#{index + 1}') if isinstance(raw, dict) else f'#{index + 1}'}"
    if not isinstance(raw, dict):
        raise QuestionSetError(f"{where}: expected a mapping with id, question or turns, expect")
    unknown = set(raw) - CASE_KEYS
    if unknown:
        raise QuestionSetError(f"{where}: unknown key {sorted(unknown)[0]!r} (allowed: {', '.join(sorted(CASE_KEYS))})")
    if "id" not in raw:
        raise QuestionSetError(f"{where}: missing key 'id'")
    if ("question" in raw) == ("turns" in raw):
        raise QuestionSetError(f"{where}: give exactly one of 'question' or 'turns'")
    turns = [raw["question"]] if "question" in raw else raw["turns"]
    if not isinstance(turns, list) or not turns or not all(isinstance(t, str) and t.strip() for t in turns):
        raise QuestionSetError(f"{where}: 'question'/'turns' must be non-empty text")
    note = raw.get("note") or ""
    if not isinstance(note, str):
        raise QuestionSetError(f"{where}: 'note' must be text")
    return Case(str(raw["id"]), tuple(turns), _parse_expect(where, raw.get("expect") or {}), str(path), note)


def _parse_expect(where: str, raw: Any) -> Expect:
    if not isinstance(raw, dict):
        raise QuestionSetError(f"{where}: 'expect' must be a mapping")
    unknown = set(raw) - EXPECT_KEYS
    if unknown:
        raise QuestionSetError(
            f"{where}: unknown key 'expect.{sorted(unknown)[0]}' (allowed: {', '.join(sorted(EXPECT_KEYS))})"
        )
    lists = {}
    for key in ("contains_any", "contains_all", "sources"):
        value = raw.get(key) or []
        if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
            raise QuestionSetError(f"{where}: 'expect.{key}' must be a list of strings")
        lists[key] = tuple(value)
    refusal = raw.get("refusal")
    if refusal is not None and not isinstance(refusal, bool):
        raise QuestionSetError(f"{where}: 'expect.refusal' must be true or false")
    return Expect(refusal=refusal, **lists)


def check(expect: Expect, answer: Answer) -> list[str]:
    """Why `answer` fails `expect` (empty when it passes).

    Example: Expect(contains_any=("2027",)) vs an answer without it -> ["contains_any: none of ['2027'] in answer"]
    """
    failures = []
    text = answer.text.lower()
    if expect.refusal is not None and answer.refused != expect.refusal:
        failures.append(
            f"refusal: expected {'a refusal' if expect.refusal else 'an answer'}, got "
            f"{'a refusal' if answer.refused else 'an answer'}"
        )
    if expect.contains_any and not any(s.lower() in text for s in expect.contains_any):
        failures.append(f"contains_any: none of {list(expect.contains_any)} in answer")
    missing = [s for s in expect.contains_all if s.lower() not in text]
    if missing:
        failures.append(f"contains_all: missing {missing}")
    cited = {c.source for c in answer.citations}
    if expect.sources and not cited & set(expect.sources):
        failures.append(f"sources: expected a citation from {list(expect.sources)}, cited {sorted(cited) or 'nothing'}")
    return failures


def run_case(answer_fn: AnswerFn, case: Case) -> CaseResult:
    """Ask every turn (carrying history) and check the last answer."""
    history: list[tuple[str, Answer]] = []
    for turn in case.turns:
        history.append((turn, answer_fn(turn, list(history))))
    answers = [a for _, a in history]
    return CaseResult(case, answers, check(case.expect, answers[-1]))


def run_question_set(
    answer_fn: AnswerFn, cases: Sequence[Case], *, on_result: Callable[[CaseResult], None] | None = None
) -> list[CaseResult]:
    """Run cases in order, calling `on_result` after each (for progress output)."""
    results = []
    for case in cases:
        results.append(run_case(answer_fn, case))
        if on_result:
            on_result(results[-1])
    return results


def summarize(results: Sequence[CaseResult]) -> dict[str, Any]:
    """The report's summary: pass counts, refusal accuracy, source hit rate, latency percentiles."""
    with_refusal = [r for r in results if r.case.expect.refusal is not None]
    with_sources = [r for r in results if r.case.expect.sources]
    latencies = sorted(a.latency_ms for r in results for a in r.answers)
    return {
        "cases": len(results),
        "passed": sum(r.status == "pass" for r in results),
        "failed": sum(r.status == "fail" for r in results),
        "unchecked": sum(r.status == "unchecked" for r in results),
        "refusal_accuracy": _rate(r.answers[-1].refused == r.case.expect.refusal for r in with_refusal),
        "source_hit_rate": _rate(
            bool({c.source for c in r.answers[-1].citations} & set(r.case.expect.sources)) for r in with_sources
        ),
        "latency_ms_p50": _percentile(latencies, 50),
        "latency_ms_p95": _percentile(latencies, 95),
    }


def report(results: Sequence[CaseResult]) -> dict[str, Any]:
    """The JSON report written by `citebot eval --report`."""
    return {"summary": summarize(results), "cases": [_case_report(r) for r in results]}


def _case_report(result: CaseResult) -> dict[str, Any]:
    """One case in the JSON report: where it is from, what was asked, the outcome and every answer."""
    case = result.case
    entry: dict[str, Any] = {"id": case.id, "file": case.file, "turns": list(case.turns)}
    entry |= {"status": result.status, "passed": result.passed, "failures": result.failures}
    if case.note:
        entry["note"] = case.note
    return entry | {"answers": [a.to_dict() for a in result.answers]}


def describe(result: CaseResult) -> str:
    """One line for a case: PASS/FAIL, id, what failed and a short answer."""
    status = result.status.upper()
    last = result.answers[-1]
    text = " ".join(last.text.split())
    line = f"{status} {result.case.id}: {text[:100] + ('…' if len(text) > 100 else '')}"
    notes = [f"note: {result.case.note}"] if result.case.note else []
    return line + "".join(f"\n     - {f}" for f in [*result.failures, *notes])


def _rate(values: Any) -> float | None:
    items = list(values)
    return round(sum(items) / len(items), 4) if items else None


def _percentile(values: Sequence[float], q: int) -> float | None:
    if not values:
        return None
    if len(values) == 1:
        return values[0]
    return round(statistics.quantiles(values, n=100, method="inclusive")[q - 1], 2)
