"""What a new user meets at N chunks (issue 28): build, size, cold ask, and questions each asked once, in one run.

Usage: python benchmarks/first_asking.py [--chunks 1000000] [--workdir DIR] [--questions 50]
       python benchmarks/first_asking.py --chunks 300 --questions 5 --no-drop    (a quick look; what the test runs)

The corpus is benchmarks/first_answer.py's (SQuAD sentences shuffled into 2,000-character files), indexed with
CITEBOT_EMBED_MODEL=hash so that only storage and retrieval count; the questions are SQuAD dev questions, distinct,
each asked once. Every step runs in a fresh process (peak RSS is that step's VmHWM):
- build: `citebot index` of the folder from scratch (seconds, peak RSS), then the index's size on disk;
- cold ask: `citebot ask` in a new process (imports, load, one answer);
- first asking: a new process loads the index (`Bot.load`), answers one question (the first answer), then
  `--questions` more, each once: p50/p95, the bytes it read from disk per question (/proc/self/io read_bytes: page
  faults of the memory-mapped segments and file reads alike) and its RSS; then the same questions again (repeated:
  their pages are in memory now). Run twice: with cold pages (the page cache dropped before the process starts, when
  the machine lets us: root, /proc/sys/vm/drop_caches) and with the pages the previous runs left;
- update: one new file added, `citebot index` again in a new process (interpreter, imports, the scan of every
  file, the write: wall and CPU seconds, megabytes written into the index folder), then the file removed and
  indexed again; `--updates N` does it N times and reports the medians (the wall time follows the machine's load).
With --workdir the corpus and index are kept, and a second run reuses them (the build's figures read from
WORKDIR/build<N>.json, marked "earlier"); --fresh builds again. --index and --docs measure an index built elsewhere
(no build row), such as scale_replicated.py's 1M one, WORKDIR/ix-replicated of WORKDIR/docs-replicated (which a
build of 1M chunks here takes 30-60 minutes to make: its ten hard-linked copies of the 100k index take 6).
--update-only measures the update alone (of --index and --docs, or of the --workdir corpus).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from common import ROOT, median, read_squad  # noqa: I001
from first_answer import write_corpus
from scale_system import NEW_FILE, _cpu, _files, _peak_gb, _rss_gb, _written_mb

TARGETS = {"build s": "no slower (1,807 s)", "build peak GB": "<= 2", "size GB": "<= 4", "cold ask s": "<= 3",
           "new p50 ms": "<= 50", "new p95 ms": "<= 150", "update s": "<= 3"}  # fmt: skip


def _settings(index_dir: Path) -> Any:
    from bot import Settings

    return Settings.from_env({}, index_dir=index_dir, embed_model="hash")


def _read_bytes() -> int:
    """Bytes this process has read from storage so far (page faults of mapped files included)."""
    for line in Path("/proc/self/io").read_text().splitlines():
        if line.startswith("read_bytes:"):
            return int(line.split()[1])
    return 0


def drop_caches() -> bool:
    """Drop the page cache (written pages flushed first); False if this machine does not let us."""
    os.sync()
    try:
        Path("/proc/sys/vm/drop_caches").write_text("3\n")
    except OSError:
        return False
    return True


def questions(count: int) -> list[str]:
    """`count` + 1 distinct SQuAD dev questions, in file order (the first is the first answer's)."""
    seen: dict[str, None] = {}
    for q in read_squad()[1]:
        seen.setdefault(q.text.strip(), None)
    found = list(seen)
    if len(found) < count + 1:
        raise SystemExit(f"Only {len(found)} distinct questions in the SQuAD sample: ask for fewer (--questions)")
    return found[1 : count + 2]  # the file's first question is the cold ask's


def step_build(docs: Path, index_dir: Path) -> dict[str, Any]:
    from index.pipeline import index_paths

    before = _files(index_dir)
    started, cpu = time.perf_counter(), _cpu()
    report, _ = index_paths([docs], _settings(index_dir))
    return {"s": time.perf_counter() - started, "cpu s": _cpu() - cpu, "chunks": report.chunks,
            "peak GB": _peak_gb(), "MB": _written_mb(before, index_dir)}  # fmt: skip


def step_asking(index_dir: Path, asked: list[str], profile: str) -> dict[str, Any]:
    """Load, the first answer, then each question once and again: seconds and bytes read per answer."""
    started, read = time.perf_counter(), _read_bytes()
    from bot import Bot

    bot = Bot.load(settings=_settings(index_dir))
    out: dict[str, Any] = {"load s": time.perf_counter() - started, "load MB read": (_read_bytes() - read) / 1e6,
                           "chunks": len(bot.stored.chunks)}  # fmt: skip
    profiler = _profiler(profile)
    first = _timed(bot, asked[:1])
    out.update({"first s": first[0][0], "first MB read": first[0][1] / 1e6})
    new = _timed(bot, asked[1:])
    if profiler is not None:
        profiler.disable()
        profiler.dump_stats(profile)
    again = _timed(bot, asked[1:])
    ms, reads = [t * 1000 for t, _ in new], [b / 1e3 for _, b in new]
    out.update({"new p50 ms": median(ms), "new p95 ms": _p95(ms), "new KB read p50": median(reads),
                "new KB read mean": sum(reads) / len(reads), "repeated p50 ms": median([t * 1000 for t, _ in again]),
                "RSS GB": _rss_gb(), "answers": [_cited(bot, q) for q in asked]})  # fmt: skip
    return out


def _profiler(path: str) -> Any:
    if not path:
        return None
    import cProfile

    profiler = cProfile.Profile()
    profiler.enable()
    return profiler


def _timed(bot: Any, asked: list[str]) -> list[tuple[float, int]]:
    """Per question: seconds to answer it and bytes read from disk meanwhile."""
    out = []
    for q in asked:
        started, read = time.perf_counter(), _read_bytes()
        bot.answer(q)
        out.append((time.perf_counter() - started, _read_bytes() - read))
    return out


def _cited(bot: Any, question: str) -> list[Any]:
    """What an answer cites, to compare two builds: (source, start, end) of each citation."""
    answer = bot.answer(question)
    return [answer.refused, [(c.source, c.start, c.end) for c in answer.citations]]


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def child(argv: list[str]) -> dict[str, Any]:
    step, docs, index_dir = argv[0], Path(argv[1]), Path(argv[2])
    if step == "asking":
        return step_asking(index_dir, json.loads(argv[3]), argv[4])
    return step_build(docs, index_dir)


def run(*args: str) -> dict[str, Any]:
    """A step in a fresh process (its last stdout line is the step's JSON)."""
    argv = [sys.executable, __file__, "--child", *args]
    done = subprocess.run(argv, cwd=ROOT, check=True, capture_output=True, text=True)
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def cold_ask(index_dir: Path, question: str) -> float:
    """Seconds of `citebot ask` in a new process (imports, load, one answer)."""
    env = {**os.environ, "CITEBOT_EMBED_MODEL": "hash", "CITEBOT_INDEX_DIR": str(index_dir)}
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "ui.cli", "ask", question], env=env, cwd=ROOT, check=True,
                   capture_output=True)  # fmt: skip
    return time.perf_counter() - started


def cli_index(docs: Path, index_dir: Path) -> dict[str, float]:
    """`citebot index` of `docs` in a new process: wall and CPU seconds (user and system), megabytes written."""
    before, env = _files(index_dir), {**os.environ, "CITEBOT_EMBED_MODEL": "hash"}
    argv = [sys.executable, "-m", "ui.cli", "index", str(docs), "--index-dir", str(index_dir), "-q"]
    cpu, started = _children_cpu(), time.perf_counter()
    subprocess.run(argv, env=env, cwd=ROOT, check=True, capture_output=True)
    return {"s": time.perf_counter() - started, "cpu s": _children_cpu() - cpu, "MB": _written_mb(before, index_dir)}


def _children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def one_file_updates(docs: Path, index_dir: Path, count: int) -> dict[str, float]:
    """Add one file and `citebot index`, then remove it and index again, `count` times: the medians of each."""
    added, removed = [], []
    for _ in range(count):
        (docs / "zz-new.txt").write_text(NEW_FILE, encoding="utf-8")
        try:
            added.append(cli_index(docs, index_dir))
        finally:
            (docs / "zz-new.txt").unlink()
        removed.append(cli_index(docs, index_dir))  # the folder as it was, for the next run
    out = {k: median([a[k] for a in added]) for k in added[0]}
    return {**out, "removed s": median([r["s"] for r in removed]), "count": count}


def index_size(index_dir: Path) -> tuple[float, float]:
    """GB on disk of the index folder, and the share of it in sentence vectors."""
    sizes = _files(index_dir)
    total = sum(sizes.values())
    sentences = sum(n for path, n in sizes.items() if Path(path).name.startswith("sentence-vectors"))
    return total / 1e9, sentences / max(total, 1)


def build(work: Path, chunks: int, *, fresh: bool) -> tuple[Path, Path, dict[str, Any]]:
    """The corpus and its index in `work`, built now or (kept from an earlier run) read from build.json."""
    docs, index_dir, saved = work / f"docs{chunks}", work / f"ix{chunks}", work / f"build{chunks}.json"
    (docs / "zz-new.txt").unlink(missing_ok=True)
    if not docs.exists():
        write_corpus(docs, chunks)
    if fresh or not saved.exists() or not index_dir.exists():
        shutil.rmtree(index_dir, ignore_errors=True)
        figures = run("build", str(docs), str(index_dir))
        saved.write_text(json.dumps({**figures, "when": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())}))
        return docs, index_dir, figures
    return docs, index_dir, {**json.loads(saved.read_text()), "earlier": True}


def measure(work: Path, chunks: int, count: int, *, fresh: bool, drop: bool, profile: str,
            given: tuple[Path, Path] | None = None, updates: int = 1,
            update_only: bool = False) -> dict[str, Any]:  # fmt: skip
    docs, index_dir, built = build(work, chunks, fresh=fresh) if given is None else (*given, {"given": True})
    if update_only:
        return {"update": one_file_updates(docs, index_dir, updates)}
    asked = questions(count)
    size, share = index_size(index_dir)
    dropped = drop and drop_caches()
    cold = cold_ask(index_dir, read_squad()[1][0].text)
    if drop:
        drop_caches()
    cold_pages = run("asking", str(docs), str(index_dir), json.dumps(asked), profile)
    cached_pages = run("asking", str(docs), str(index_dir), json.dumps(asked), "")
    update = one_file_updates(docs, index_dir, updates)
    return {"built": built, "size GB": size, "sentence vectors share": share, "dropped": dropped,
            "cold ask s": cold, "cold": cold_pages, "cached": cached_pages, "update": update}  # fmt: skip


def report(m: dict[str, Any], count: int) -> list[tuple[str, str, str]]:
    """The table's rows: (measure, value, target)."""
    b, c, w = m["built"], m["cold"], m["cached"]
    pages = "cold pages (cache dropped)" if m["dropped"] else "pages as found (cache not dropped)"
    earlier = f" (built earlier: {b.get('when', '?')})" if b.get("earlier") else ""
    built = "not by this run (--index)" if b.get("given") else f"{b['s']:,.0f} s, peak RSS {b['peak GB']:.2f} GB"
    rows = [
        ("chunks", f"{c['chunks']:,}", ""),
        (f"`citebot index` from scratch{earlier}", built, f"{TARGETS['build s']}; {TARGETS['build peak GB']} GB"),
        ("index on disk", f"{m['size GB']:.2f} GB ({m['sentence vectors share']:.0%} sentence vectors)",
         TARGETS["size GB"] + " GB"),
        (f"cold `citebot ask`, {pages}", f"{m['cold ask s']:.2f} s", TARGETS["cold ask s"] + " s"),
    ]  # fmt: skip
    for name, r in ((pages, c), ("a second process, pages cached", w)):
        rows += [
            (f"{name}: Bot.load, first answer", f"{r['load s']:.2f} s, {r['first s']:.2f} s "
             f"({r['load MB read']:.0f} + {r['first MB read']:.0f} MB read)", ""),
            (f"{name}: {count} new questions, p50 / p95", f"{r['new p50 ms']:.0f} / {r['new p95 ms']:.0f} ms",
             f"p50 {TARGETS['new p50 ms']}, p95 {TARGETS['new p95 ms']} ms"),
            (f"{name}: read per new question, p50 / mean", f"{r['new KB read p50']:,.0f} / "
             f"{r['new KB read mean']:,.0f} KB", ""),
            (f"{name}: the same questions again, p50", f"{r['repeated p50 ms']:.1f} ms", ""),
            (f"{name}: RSS after", f"{r['RSS GB']:.2f} GB", ""),
        ]  # fmt: skip
    return [*rows, update_row(m["update"])]


def update_row(u: dict[str, float]) -> tuple[str, str, str]:
    """The one-file update's row: (measure, value, target)."""
    runs = f", median of {u['count']:.0f}" if u["count"] > 1 else ""
    value = (f"{u['s']:.2f} s (CPU {u['cpu s']:.2f} s, {u['MB']:.2f} MB written{runs}; "
             f"removing it again {u['removed s']:.2f} s)")  # fmt: skip
    return "add one file, `citebot index` (a new process)", value, TARGETS["update s"] + " s"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--chunks", type=int, default=1_000_000)
    parser.add_argument("--questions", type=int, default=50, help="distinct questions after the first answer")
    parser.add_argument("--workdir", type=Path, help="keep the corpus and index here (default: a temporary folder)")
    parser.add_argument("--fresh", action="store_true", help="build the index again even if --workdir has one")
    parser.add_argument("--index", type=Path, help="measure this index (built elsewhere) of --docs: no build")
    parser.add_argument("--docs", type=Path, help="the folder --index was built from")
    parser.add_argument("--no-drop", action="store_true", help="leave the page cache alone")
    parser.add_argument("--profile", default="", help="cProfile the cold-pages answers into this file")
    parser.add_argument("--answers", type=Path, help="write each question's citations here (JSON), to compare runs")
    parser.add_argument("--updates", type=int, default=1, help="one-file updates to measure (medians reported)")
    parser.add_argument("--update-only", action="store_true", help="measure the one-file update alone")
    parser.add_argument("--child", nargs="+", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return 0
    with tempfile.TemporaryDirectory(prefix="citebot-asking-") as tmp:
        work = args.workdir or Path(tmp)
        work.mkdir(parents=True, exist_ok=True)
        given = (args.docs, args.index) if args.index else None
        m = measure(work, args.chunks, args.questions, fresh=args.fresh, drop=not args.no_drop, profile=args.profile,
                    given=given, updates=args.updates, update_only=args.update_only)  # fmt: skip
    if args.update_only:
        print("| measure | measured | target |\n|---|---|---|\n| {} | {} | {} |".format(*update_row(m["update"])))
        print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
        return 0
    if args.answers:
        args.answers.write_text(json.dumps(m["cold"]["answers"]), encoding="utf-8")
    print(f"| measure at {m['cold']['chunks']:,} chunks | measured | target |\n|---|---|---|")
    for name, value, target in report(m, args.questions):
        print(f"| {name} | {value} | {target} |")
    same = m["cold"]["answers"] == m["cached"]["answers"]
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}; answers the same in both processes: {same}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
