"""Every case of every question set (default tests/questions/*.yaml) becomes a test item, run on the real model.

Point it at your own sets and documents:
    pytest tests/test_question_sets.py --question-sets my/sets --docs my/docs
A subfolder of the sets folder with its own `docs/` (tests/questions/library/) is a corpus of its own: its `*.yaml`
are asked about its `docs/`.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.checks.eval import Case, load_question_set, run_case

pytestmark = pytest.mark.slow


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        folder = Path(metafunc.config.getoption("--question-sets"))
        docs = Path(metafunc.config.getoption("--docs"))
        corpora = [(folder, docs)] + [
            (sub, sub / "docs") for sub in sorted(folder.iterdir()) if (sub / "docs").is_dir()
        ]
        cases = [(c, d) for f, d in corpora for path in sorted(f.glob("*.yaml")) for c in load_question_set(path)]
        metafunc.parametrize(("case", "docs"), cases, ids=[f"{Path(c.file).stem}:{c.id}" for c, _ in cases])


_BOTS: dict[Path, object] = {}


@pytest.fixture
def docs_bot(docs: Path, tmp_path_factory: pytest.TempPathFactory, seed_bot: object) -> object:
    """The bot over `docs`, indexed once per session (the seed bot for seeds/)."""
    from bot import Bot, Settings
    from index.pipeline import index_paths

    docs = docs.resolve()
    if docs == (Path(__file__).resolve().parent.parent / "seeds"):
        return seed_bot
    if docs not in _BOTS:
        settings = Settings.from_env({}, index_dir=tmp_path_factory.mktemp("docs") / "index")
        index_paths([docs], settings)
        _BOTS[docs] = Bot.load(settings=settings)
    return _BOTS[docs]


def test_case(case: Case, docs: Path, docs_bot) -> None:  # type: ignore[no-untyped-def]
    result = run_case(docs_bot.answer, case)
    if result.status == "unchecked":
        pytest.skip(f"{case.file} case {case.id!r} has no expectations yet: {case.note or 'add expect:'}")
    if not result.passed:
        answer = result.answers[-1]
        cites = "\n".join(f"  [{c.n}] {c.source}:{c.start}-{c.end} {c.quote!r}" for c in answer.citations) or "  none"
        pytest.fail(
            f"{case.file} case {case.id!r}\n"
            f"question: {' -> '.join(case.turns)}\n"
            f"expected: {case.expect}\n"
            f"failures: {'; '.join(result.failures)}\n"
            f"answer (refused={answer.refused}): {answer.text}\n"
            f"citations:\n{cites}",
            pytrace=False,
        )
