"""Every case of every question set (default tests/questions/*.yaml) becomes a test item, run on the real model.

Point it at your own sets and documents:
    pytest tests/test_question_sets.py --question-sets my/sets --docs my/docs
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.eval import Case, load_question_set, run_case

pytestmark = pytest.mark.slow


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "case" in metafunc.fixturenames:
        folder = Path(metafunc.config.getoption("--question-sets"))
        cases = [c for path in sorted(folder.glob("*.yaml")) for c in load_question_set(path)]
        metafunc.parametrize("case", cases, ids=[f"{Path(c.file).stem}:{c.id}" for c in cases])


@pytest.fixture(scope="session")
def docs_bot(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, seed_bot: object) -> object:
    """The bot over --docs (the seed bot when --docs is the default seeds/)."""
    from bot import Bot, Settings
    from index.pipeline import index_paths

    docs = Path(request.config.getoption("--docs")).resolve()
    if docs == (Path(__file__).resolve().parent.parent / "seeds"):
        return seed_bot
    settings = Settings.from_env({}, index_dir=tmp_path_factory.mktemp("docs") / "index")
    index_paths([docs], settings)
    return Bot.load(settings=settings)


def test_case(case: Case, docs_bot) -> None:  # type: ignore[no-untyped-def]
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
