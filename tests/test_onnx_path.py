"""The torch-free query path: commands on an existing index import no torch or llama-index, and answer as torch does."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from bot.config import EMBED_MODEL, Settings

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent
HEAVY = ("torch", "sentence_transformers", "gradio", "transformers", "llama_index")
WATCH = f"""
import sys
from ui.cli import main
code = main(sys.argv[1:])
heavy = sorted(m for m in {HEAVY!r} if m in sys.modules)
print("CODE", code, "HEAVY", ",".join(heavy) or "none")
"""


@pytest.mark.parametrize(
    ("argv", "stdin"),
    [
        (["ask", "Why can't Ukraine join NATO?"], ""),
        (["chat"], "Which country is sending a brigade to Lithuania?\nWhen will it be fully ready?\nquit\n"),
        (["eval", str(ROOT / "tests" / "questions" / "seed.yaml")], ""),
    ],
)
def test_commands_on_an_existing_index_import_no_torch_gradio_or_llama_index(
    seed_index: Path, argv: list[str], stdin: str
) -> None:
    env = {**os.environ, "CITEBOT_INDEX_DIR": str(seed_index)}
    run = subprocess.run(
        [sys.executable, "-c", WATCH, *argv],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=120,
    )
    assert "CODE 0 HEAVY none" in run.stdout, (run.stdout[-500:], run.stderr[-1000:])
    assert "[1]" in run.stdout
    assert "torch" not in run.stderr  # no fallback notice: the export made at index time was used


def _squad(folder: Path, *, every: int = 1) -> list[str]:
    """Each paragraph of the SQuAD sample as a document; returns its questions."""
    folder.mkdir(parents=True)
    data = json.loads((ROOT / "data" / "squad2-dev-sample.json").read_text(encoding="utf-8"))["data"]
    questions = []
    for a, article in enumerate(data):
        for p, paragraph in enumerate(article["paragraphs"]):
            (folder / f"{a:02d}-{p:03d}.txt").write_text(paragraph["context"], encoding="utf-8")
            questions += [qa["question"] for qa in paragraph["qas"]]
    return questions[::every]


def _answers(bot: Any, questions: list[str]) -> list[tuple[object, ...]]:
    out = []
    for question in questions:
        a = bot.answer(question)
        out.append((question, a.refused, [(c.source, c.start, c.end) for c in a.citations]))
    return out


@pytest.fixture(scope="module")
def squad_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[str]]:
    from index.pipeline import index_paths

    base = tmp_path_factory.mktemp("squad")
    questions = _squad(base / "docs")
    settings = Settings.from_env({}, index_dir=base / "index")
    index_paths([base / "docs"], settings)
    return settings.index_dir, questions


def test_onnx_answers_cite_what_torch_answers_cite(seed_index: Path, squad_index: tuple[Path, list[str]]) -> None:
    from bot import Bot
    from bot.checks.eval import load_question_set
    from index.embedding.embeddings import make_embedder
    from index.embedding.onnx_embed import OnnxEmbedder
    from index.embedding.query_embed import resolve

    torch_model = make_embedder(EMBED_MODEL, threads=1)
    seed = [case.turns[-1] for case in load_question_set(ROOT / "tests" / "questions" / "seed.yaml")]
    for index_dir, questions in ((seed_index, seed), squad_index):
        onnx_bot = Bot.load(index_dir)
        assert isinstance(resolve(onnx_bot.engine.retriever.embedder), OnnxEmbedder)
        torch_bot = Bot.load(index_dir, embedder=torch_model)
        assert _answers(onnx_bot, questions) == _answers(torch_bot, questions)


def test_a_missing_index_is_a_clean_error_while_the_model_loads(seed_index: Path, tmp_path: Path) -> None:
    """The ONNX session opening in the background must not crash the exit (it did, 1 run in 3, as a daemon)."""
    env = {**os.environ, "CITEBOT_INDEX_DIR": str(tmp_path / "none")}  # the session's cache holds the export
    for _ in range(4):
        run = subprocess.run([sys.executable, "-m", "ui.cli", "ask", "Why?"], capture_output=True, text=True,
                             cwd=ROOT, env=env, timeout=60)  # fmt: skip
        assert (run.returncode, run.stderr.splitlines()[0][:27]) == (2, "citebot: error: No index at")
        assert "terminate" not in run.stderr and "Traceback" not in run.stderr


def test_an_upload_loads_the_torch_model_once_and_is_answerable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import shutil

    from bot import Bot
    from bot.library import Library
    from index.embedding import embeddings
    from index.pipeline import index_paths

    shutil.copytree(ROOT / "seeds", tmp_path / "docs")
    settings = Settings.from_env({}, index_dir=tmp_path / "index", docs_dir=tmp_path / "docs")
    index_paths([tmp_path / "docs"], settings)
    loads: list[str] = []
    real = embeddings.make_embedder
    monkeypatch.setattr(embeddings, "make_embedder", lambda model, threads=None: loads.append(model) or real(model))
    bot = Bot.load(settings=settings)
    library = Library(settings, bot=bot)
    bot.answer("Why can't Ukraine join NATO?")
    assert loads == []  # answering needs no torch model
    library = Library(settings, bot=bot)
    for name, text in (("owls.txt", "Owls hunt at night."), ("bats.txt", "Bats sleep by day.")):
        (tmp_path / name).write_text(text, encoding="utf-8")
        assert library.add([(tmp_path / name, name)]).saved == [f"uploads/{name}"]
    assert loads == [EMBED_MODEL]  # loaded on the first upload, kept for the next
    assert "Owls hunt at night." in bot.answer("When do owls hunt?").text
