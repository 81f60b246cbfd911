"""Answer quality on every calibration set: citebot, plain llama-index and BM25 side by side, in one run.

    python benchmarks/quality.py [--sets squad,tydi,nq,coqa,dialogues,dialogues-unseen,seed,library] [--json FILE]
    python benchmarks/quality.py --split fresh --sets squad,tydi,nq

--split dev|fresh asks the articles held back from the training files (benchmarks/train_reader.py writes them) in
place of the calibration sets: `fresh` was never looked at while choosing anything (docs/reader.md).

squad, tydi, nq: each paragraph a document, one index per set, every question asked alone (squad also asks
data/off_topic.txt and data/off_topic_unseen.txt, which must all be refused). coqa: every story one file in one
index; each dialogue's turns asked in order with citebot's own earlier answers as history, and again each turn alone;
a turn is right when a citation from the story's file overlaps the gold span. dialogues, dialogues-unseen: the same
for data/dialogues.json and data/dialogues_unseen.json, conversations written for the project (data/README.md).
seed: tests/questions/*.yaml on seeds/, pass rate; library: tests/questions/library/*.yaml on its docs/. off-topic:
data/off_topic.txt (the refusal threshold was set on it) on the squad index, alone and after a turn; off-topic
unseen: data/off_topic_unseen.txt the same way (written later; nothing is fitted on it, see bot/extractive.py
COSINE_FLOOR for the one rule it prompted).
Indexes are cached under benchmarks/out/ by a hash of the data, the index settings and index/**/*.py. CITEBOT_*
variables apply.
Data: see ../shared/data/README.md and data/README.md for sources and licences (SQuAD 2.0, TyDi QA, NQ, CoQA).
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, fields
from functools import partial
from pathlib import Path
from typing import Any

from common import ROOT, read_squad, write_documents  # noqa: I001
from quality_metrics import Metrics, Reply, answered, cites_span, contains_gold, qa_metrics, rate, retrieval
from quality_report import SetReport, print_summary, print_table, write_json
from quality_systems import AnswerFn, ask, baseline_replies, baselines, bot_embedder, bot_strict, build_index

from bot import Answer, Bot, Settings
from bot.checks.eval import CaseResult

# ../shared/data beside the repo; from a worktree under wt/, two levels up
DATA = next((d for d in (ROOT.parent / "shared" / "data", ROOT.parent.parent / "shared" / "data") if d.is_dir()),
            ROOT.parent / "shared" / "data")  # fmt: skip
QA_FILES = {"squad": "squad2-dev-sample.json", "tydi": "tydiqa-en-calibration.json", "nq": "nq-calibration.json"}
COQA_FILE = "coqa-calibration.json"
# CoQA-style conversations written for the project (data/README.md): dialogues.json was read while developing,
# dialogues_unseen.json is only reported
DIALOGUES = {"coqa": COQA_FILE, "dialogues": "dialogues.json", "dialogues-unseen": "dialogues_unseen.json"}
SETS = ("squad", "tydi", "nq", "coqa", "dialogues", "dialogues-unseen", "seed", "library")
SHORT_WORDS = 3
QUESTIONS = {"seed": ROOT / "tests" / "questions", "library": ROOT / "tests" / "questions" / "library"}
CORPORA = {"seed": ROOT / "seeds", "library": QUESTIONS["library"] / "docs"}  # what each question folder asks about
OFF_TOPIC = [ROOT / "data" / "off_topic.txt", ROOT / "data" / "off_topic_unseen.txt"]  # fitted on / never fitted on
IN_TURN = "citebot in turn"  # the set asked as one conversation: each question after the ones before it
SPLITS = ROOT / "benchmarks" / "out" / "reader"  # the training files' held-back splits (benchmarks/train_reader.py)
OPENERS = 8  # off-topic questions are asked again after each of the first 8 answerable squad questions


class Runner:
    """Loads each set's Bot (sharing one embedding model) and gets the baselines' replies (cached per index)."""

    def __init__(self, *, fresh_baselines: bool = False) -> None:
        self.embedder: Any = None
        self.fresh_baselines = fresh_baselines
        self.cached: list[str] = []  # the indexes whose baseline replies came from the cache

    def bot(self, settings: Settings) -> Bot:
        bot = Bot.load(settings=settings, embedder=self.embedder)
        self.embedder = bot_embedder(bot)
        return bot

    def baselines(self, bot: Bot, settings: Settings, questions: Sequence[str]) -> dict[str, list[Reply]]:
        replies, cached = baseline_replies(bot, settings.index_dir.parent, questions, fresh=self.fresh_baselines)
        self.cached += [settings.index_dir.parent.name] if cached else []
        return replies


def qa_set(
    name: str, path: Path, settings: Settings, run: Runner, off_topic: Sequence[Path], limit: int | None = None
) -> list[SetReport]:
    """A SQuAD-format set: every question (or a seeded sample of `limit`) alone, against each system."""
    _, questions = read_squad(path)
    if limit is not None and limit < len(questions):
        questions = random.Random(0).sample(questions, limit)
    bot = run.bot(settings)
    answer_fns: dict[str, AnswerFn] = {"citebot": bot.answer}
    if any(q.impossible for q in questions):
        answer_fns["citebot --strict"] = bot_strict(bot, settings).answer
    replies = {n: [ask(fn, q.text)[1] for q in questions] for n, fn in answer_fns.items()}
    replies[IN_TURN] = _conversation(bot.answer, [q.text for q in questions])
    replies.update(run.baselines(bot, settings, [q.text for q in questions]))
    golds = [(q.source, q.answers, q.impossible) for q in questions]
    columns = {n: qa_metrics(rs, golds, refuses=n.startswith("citebot")) for n, rs in replies.items()}
    records = [
        {"set": name, "id": q.id, "question": q.text, "gold_sources": [q.source], "gold_answers": list(q.answers),
         "impossible": q.impossible, "systems": {n: rs[i].to_dict() for n, rs in replies.items()}}
        for i, q in enumerate(questions)
    ]  # fmt: skip
    unanswerable = sum(q.impossible for q in questions)
    file = path.resolve()  # a held-back split's file, where --split links it: "dev/squad.json"
    label = f"{file.parent.name}/{file.name}" if path.is_symlink() else path.name
    line = f"{name}: {label}, {len({q.source for q in questions})} paragraphs, {len(questions)} questions"
    reports = [SetReport(name, line + f" ({unanswerable} unanswerable)" * bool(unanswerable), columns, records)]
    openers = [q.text for q in questions if not q.impossible][:OPENERS]
    reports += [off_topic_set(bot, p, openers) for p in off_topic]
    return reports


def _case_record(result: CaseResult) -> dict[str, Any]:
    return {"passed": result.passed, "failures": result.failures, "answers": [a.to_dict() for a in result.answers]}


def off_topic_set(bot: Bot, path: Path, openers: Sequence[str]) -> SetReport:
    """Off-topic questions against the squad index, alone and each after every opener's turn: all must be refused.

    The set is named after the file: off_topic.txt is "off-topic", off_topic_unseen.txt "off-topic unseen"."""
    name = path.stem.replace("_", " ").replace("off topic", "off-topic")
    questions = [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    replies = [ask(bot.answer, q)[1] for q in questions]
    after = []
    for opener in openers:
        history = [(opener, bot.answer(opener))]
        after += [ask(bot.answer, q, history)[1] for q in questions]
    records = [{"set": name, "id": str(i), "question": q, "systems": {"citebot": r.to_dict()}}
               for i, (q, r) in enumerate(zip(questions, replies, strict=True))]  # fmt: skip
    records += [{"set": name, "id": f"{i % len(questions)} after {openers[i // len(questions)]!r}",
                 "question": questions[i % len(questions)], "systems": {"citebot": r.to_dict()}}
                for i, r in enumerate(after)]  # fmt: skip
    line = (f"{name}: {path.name}, {len(questions)} questions against the squad index, alone and after each of the "
            f"first {len(openers)} answerable questions' turn")  # fmt: skip
    metrics = {"refused": rate(r.refused for r in replies), "refused after a turn": rate(r.refused for r in after)}
    return SetReport(name, line, {"citebot": metrics}, records)


@dataclass(frozen=True)
class Turn:
    dialogue: str
    index: int
    question: str
    source: str
    start: int
    end: int
    kind: str
    answer: str


def coqa_documents(path: Path) -> tuple[dict[str, str], list[list[Turn]]]:
    """Each CoQA story as one file named after its dialogue id, and each dialogue's turns."""
    documents, dialogues = {}, []
    for d in json.loads(path.read_text(encoding="utf-8"))["dialogues"]:
        name = re.sub(r"[^A-Za-z0-9]+", "_", d["id"]) + ".txt"
        documents[name] = d["story"]
        dialogues.append([Turn(d["id"], i, t["question"], name, t.get("span_start") or 0, t.get("span_end") or 0,
                               t["kind"], t["answer"]) for i, t in enumerate(d["turns"])])  # fmt: skip
    return documents, dialogues


def coqa_set(name: str, path: Path, settings: Settings, run: Runner) -> list[SetReport]:
    """Each dialogue asked in order with citebot's own answers as history; and every turn alone, for every system."""
    _, dialogues = coqa_documents(path)
    turns = [t for d in dialogues for t in d]
    bot = run.bot(settings)
    replies = {"citebot": [r for d in dialogues for r in _conversation(bot.answer, [t.question for t in d])]}
    replies["citebot (no history)"] = [ask(bot.answer, t.question)[1] for t in turns]
    replies.update(run.baselines(bot, settings, [t.question for t in turns]))
    columns = {n: coqa_metrics(rs, turns, refuses=n.startswith("citebot")) for n, rs in replies.items()}
    same = rate(a.text == b.text for a, b, t in zip(replies["citebot"], replies["citebot (no history)"], turns,
                                                    strict=True) if t.index >= 1)  # fmt: skip
    for n, column in columns.items():
        column["follow-ups answered as without history"] = same if n == "citebot" else None
    records = [
        {"set": name, "id": f"{t.dialogue}#{t.index}", "question": t.question, "gold_sources": [t.source],
         "gold_answers": [t.answer], "gold_span": [t.start, t.end] if t.kind == "span" else None, "kind": t.kind,
         "turn": t.index,
         "systems": {n: rs[i].to_dict() for n, rs in replies.items()}}
        for i, t in enumerate(turns)
    ]  # fmt: skip
    spans = sum(t.kind == "span" for t in turns)
    line = f"{name}: {path.name}, {len(dialogues)} stories in one index, {len(turns)} turns ({spans} with a gold span)"
    return [SetReport(name, line, columns, records)]


def _conversation(answer_fn: AnswerFn, questions: Sequence[str]) -> list[Reply]:
    """Ask the questions in order, each with the earlier (question, answer) pairs as history."""
    history: list[tuple[str, Answer]] = []
    out = []
    for question in questions:
        answer, reply = ask(answer_fn, question, list(history))
        history.append((question, answer))
        out.append(reply)
    return out


def coqa_metrics(replies: Sequence[Reply], turns: Sequence[Turn], *, refuses: bool) -> Metrics:
    """Cite-hit (a citation overlaps the gold span) for follow-ups, short follow-ups and first turns; retrieval.

    Retrieval is over every turn; answers, refusals and latency over turns with a gold span (answerable ones).
    """
    spans = [(r, t) for r, t in zip(replies, turns, strict=True) if t.kind == "span"]

    def hit(keep: Callable[[Turn], bool]) -> float | None:
        return rate(cites_span(r, t.source, t.start, t.end) for r, t in spans if keep(t))

    out: Metrics = {
        "follow-up cite-hit": hit(lambda t: t.index >= 1),
        "short follow-up cite-hit": hit(lambda t: t.index >= 1 and len(t.question.split()) <= SHORT_WORDS),
        "first-turn cite-hit": hit(lambda t: t.index == 0),
    }
    out.update(retrieval(replies, [t.source for t in turns]))
    out["answer contains gold"] = rate(contains_gold(r, [t.answer]) for r, t in spans)
    out.update(answered([r for r, _ in spans], refuses=refuses, label="refused (span turns)"))
    return out


def seed_set(name: str, settings: Settings, run: Runner, question_sets: Sequence[Path]) -> list[SetReport]:
    """Question sets on their documents (tests/questions on seeds/, tests/questions/library on its docs/): share of
    cases passed, per file and overall."""
    from bot.checks.eval import load_question_set, run_question_set

    cases = [c for path in question_sets for c in load_question_set(path)]
    bot = run.bot(settings)
    answer_fns = {"citebot": bot.answer, **baselines(bot, settings.index_dir.parent)}
    results = {n: run_question_set(fn, cases) for n, fn in answer_fns.items()}
    columns: dict[str, Metrics] = {}
    for n, rs in results.items():
        columns[n] = {"pass rate": rate(r.passed for r in rs)}
        columns[n].update({f"  {p.name}": rate(r.passed for r in rs if r.case.file == str(p)) for p in question_sets})
    records = [
        {"set": name, "id": c.id, "question": " / ".join(c.turns), "file": Path(c.file).name,
         "systems": {n: _case_record(rs[i]) for n, rs in results.items()}}
        for i, c in enumerate(cases)
    ]  # fmt: skip
    names = ", ".join(p.name for p in question_sets)
    docs = CORPORA[name].relative_to(ROOT)
    return [SetReport(name, f"{name}: {names} on {docs}/, {len(cases)} cases", columns, records)]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", default=",".join(SETS), help=f"comma-separated: {','.join(SETS)}")
    parser.add_argument("--data", type=Path, default=DATA, help=f"folder of the calibration files (default {DATA})")
    parser.add_argument("--split", choices=("dev", "fresh"), help="ask a held-back split of the training files instead")
    parser.add_argument("--limit", type=int, help="ask a seeded sample of this many questions of each squad-format set")
    parser.add_argument(
        "--off-topic",
        type=Path,
        nargs="*",
        default=OFF_TOPIC,
        help="question files asked on the squad index, all to be refused (default: %(default)s)",
    )
    parser.add_argument("--fresh-baselines", action="store_true", help="ask the baselines again (not from the cache)")
    parser.add_argument("--json", type=Path, help="write every metric and per-question record as JSON")
    args = parser.parse_args(argv)
    chosen = [s.strip() for s in args.sets.split(",") if s.strip()]
    unknown = set(chosen) - set(SETS)
    if unknown:
        parser.error(f"unknown set(s) {', '.join(sorted(unknown))}; choose from {','.join(SETS)}")
    started = time.perf_counter()
    if args.split:
        args.data = split_folder(args.split, [s for s in chosen if s in QA_FILES])
    runs = prepare(chosen, args.data)  # every index first: loading a Bot sets torch to one thread
    run = Runner(fresh_baselines=args.fresh_baselines)
    reports: list[SetReport] = []
    for name, (path, settings, _) in runs.items():
        if name in QA_FILES:
            reports += qa_set(name, path, settings, run, args.off_topic if name == "squad" else [], args.limit)
        elif name in DIALOGUES:
            reports += coqa_set(name, path, settings, run)
        else:
            reports += seed_set(name, settings, run, sorted(QUESTIONS[name].glob("*.yaml")))
    print_procedure(args.data, runs, run)
    for report in reports:
        print_table(report)
    print_summary(reports)
    print(f"\ntotal {time.perf_counter() - started:.0f} s")
    if args.json:
        write_json(args.json, reports)
    return 0


def print_procedure(data: Path, runs: dict[str, tuple[Path, Settings, float]], run: Runner) -> None:
    """What was run: data, index build times, settings that differ from the defaults, cached baselines."""
    built = ", ".join(f"{n} {s:.1f} s" for n, (_, _, s) in runs.items())
    settings = next(iter(runs.values()))[1]
    changed = [f"{f.name}={getattr(settings, f.name)}" for f in fields(Settings)
               if f.name != "index_dir" and getattr(settings, f.name) != getattr(Settings(), f.name)]  # fmt: skip
    print(f"procedure: data {data}; index build/reuse {built}; settings: {', '.join(changed) or 'defaults'}")
    if run.cached:
        print(f"baseline replies (and their latencies) reused from benchmarks/out/ for {', '.join(run.cached)}")


def prepare(chosen: Sequence[str], data: Path) -> dict[str, tuple[Path, Settings, float]]:
    """Build (or reuse) each chosen set's index: data file, settings pointing at it, seconds spent."""
    runs = {}
    for name in chosen:
        if name in QA_FILES:
            path = _data_file(data, QA_FILES[name])
            documents = read_squad(path)[0]
        elif name in DIALOGUES:
            path = _data_file(data, DIALOGUES[name])
            documents = coqa_documents(path)[0]
        else:
            path = CORPORA[name]
            seeds = b"".join(p.read_bytes() for p in sorted(path.rglob("*")) if p.is_file())
            runs[name] = (path, *build_index(name, seeds, path))
            continue
        runs[name] = (path, *build_index(name, path.read_bytes(), partial(write_documents, documents=documents)))
    return runs


def split_folder(split: str, names: Sequence[str]) -> Path:
    """A folder where a held-back split's files (benchmarks/out/reader/<split>/<set>.json) go by the calibration
    files' names, so that every set reads them as it reads those."""
    folder = SPLITS / split / "named"
    folder.mkdir(parents=True, exist_ok=True)
    for name in names:
        target = SPLITS / split / f"{name}.json"
        if not target.exists():
            sys.exit(f"{target} is missing: `python benchmarks/train_reader.py --splits-only` writes the splits")
        link = folder / QA_FILES[name]
        if not link.exists():
            link.symlink_to(target)
    return folder


def _data_file(data: Path, name: str) -> Path:
    for folder in (data, ROOT / "data"):
        if (folder / name).exists():
            return folder / name
    sys.exit(f"{name} not found in {data} or {ROOT / 'data'}; pass --data DIR (the shared calibration folder)")


if __name__ == "__main__":
    sys.exit(main())
