"""The README and docs/ stay true to the code: every relative link resolves (anchors too), every file they name exists,
every `citebot` command line parses, every `python benchmarks/...` command names a script that takes its options,
the question-set examples load, and the HTTP examples run against a real server (hash embedder, over seeds/)."""

from __future__ import annotations

import re
import shlex
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parent.parent
PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\[[^\]]*\]\(([^)\s]+)\)")
FENCE = re.compile(r"```(\w+)\n(.*?)```", re.S)
FOLDERS = "bot|index|ui|benchmarks|tests|docs|prompts|models|seeds|data"
NAMED = re.compile(rf"(?<![\w./-])((?:{FOLDERS})/[\w./-]*\w)")
WRITTEN = ("benchmarks/out", "tests/questions/baseline.json")  # written by the commands the pages show


def _blocks(page: Path, *languages: str) -> list[str]:
    return [code for lang, code in FENCE.findall(page.read_text(encoding="utf-8")) if lang in languages]


def _prose(page: Path) -> str:
    return FENCE.sub("", page.read_text(encoding="utf-8"))


def slug(heading: str) -> str:
    """GitHub's anchor for a heading. Example: slug("5. Refuse") -> "5-refuse"; slug("HTTP and OpenAI API") -> ..."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(page: Path) -> set[str]:
    return {slug(h) for h in re.findall(r"^#+ (.+)$", _prose(page), re.M)}


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_relative_link_resolves(page: Path) -> None:
    broken = []
    for target in LINK.findall(_prose(page)):
        if re.match(r"[a-z]+:", target):
            continue
        path, _, anchor = target.partition("#")
        file = (page.parent / path).resolve() if path else page
        if not file.exists() or (anchor and file.suffix == ".md" and anchor not in _anchors(file)):
            broken.append(target)
    assert broken == []


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_file_named_exists(page: Path) -> None:
    named = {m.rstrip(".") for m in NAMED.findall(page.read_text(encoding="utf-8"))}
    written = [n for n in named if any(n == w or n.startswith(f"{w}/") for w in WRITTEN)]
    missing = sorted(n for n in named if not (ROOT / n).exists() and not any(c in n for c in "*<") and n not in written)
    assert missing == []


def _command_lines(page: Path, program: str) -> list[list[str]]:
    """Each command line of the page's shell blocks that runs `program`, as words, from `program` to a redirection."""
    found = []
    for lang, block in FENCE.findall(page.read_text(encoding="utf-8")):
        lines = block.replace("\\\n", " ").splitlines()
        if lang == "console":  # only the prompts' lines are commands; the rest is their output
            lines = [line.removeprefix("$ ") for line in lines if line.startswith("$ ")]
        elif lang != "bash":
            continue
        for line in lines:
            words = shlex.split(line, comments=True)
            while words and re.match(r"\w+=", words[0]):  # VAR=value before the command
                words = words[1:]
            if words[: len(program.split())] == program.split():
                end = next((i for i, w in enumerate(words) if w.startswith((">", "|"))), len(words))
                found.append([w for w in words[:end] if not w.startswith("$")])
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_every_citebot_command_parses(page: Path) -> None:
    from ui.cli import _parser

    for words in _command_lines(page, "citebot"):
        try:
            _parser().parse_args(words[1:])
        except SystemExit as exc:
            pytest.fail(f"{page.name}: `{shlex.join(words)}` does not parse ({exc})")


def test_every_benchmark_command_names_a_script_that_takes_its_options() -> None:
    commands = re.compile(r"`python (benchmarks/\w+\.py)([^`]*)`")
    seen = 0
    for page in [*PAGES, ROOT / "benchmarks" / "MODELS.md"]:
        for script, rest in commands.findall(page.read_text(encoding="utf-8")):
            source = (ROOT / script).read_text(encoding="utf-8")
            options = re.findall(r"(--[\w-]+)", rest)
            assert all(f'"{o}"' in source for o in options), f"{page.name}: {script}{rest}"
            seen += 1
    assert seen >= 10


def test_the_question_set_examples_load(tmp_path: Path) -> None:
    from bot.checks.eval import load_question_set

    blocks = _blocks(ROOT / "docs" / "question-sets.md", "yaml")
    assert len(blocks) == 2
    for i, block in enumerate(blocks):
        path = tmp_path / f"set{i}.yaml"
        path.write_text(block, encoding="utf-8")
        assert load_question_set(path)


def test_the_configuration_page_names_every_setting() -> None:
    from dataclasses import fields

    from bot.config import Settings

    page = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert [f.name for f in fields(Settings) if f"CITEBOT_{f.name.upper()}" not in page] == []


@pytest.fixture(scope="module")
def seed_server(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """A server over a copy of seeds/ with the hash embedder (no model), on a free port."""
    from fakes import HashingEmbedder, hashing_settings
    from served import free_port

    from bot import Bot
    from index.pipeline import index_paths
    from ui.serve_cli import launch

    base = tmp_path_factory.mktemp("docs-server")
    docs = base / "docs"
    shutil.copytree(ROOT / "seeds", docs)
    settings = hashing_settings(base / "index", docs_dir=docs)
    index_paths([docs], settings, embedder=HashingEmbedder())
    bot = Bot.load(settings.index_dir, embedder=HashingEmbedder(), settings=settings)
    app = launch(bot, host="127.0.0.1", port=free_port(), block=False, settings=settings)
    yield f"http://127.0.0.1:{app.server_port}", base
    app.close()


def test_the_readme_http_example_answers(seed_server: Any) -> None:
    url, _ = seed_server
    (curl,) = [b for b in _blocks(ROOT / "README.md", "console") if "curl" in b]
    command = curl.removeprefix("$ ").replace("http://127.0.0.1:7860", url)
    if shutil.which("curl") is None:
        pytest.skip("curl is not installed")
    out = subprocess.run(["bash", "-c", command], capture_output=True, text=True, check=True, timeout=60).stdout
    assert '"citations"' in out and "germany-lithuania-brigade.txt" in out


def test_the_api_page_examples_run(seed_server: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from pdfs import make_pdf

    url, _ = seed_server
    blocks = [b.replace("http://127.0.0.1:7860", url) for b in _blocks(ROOT / "docs" / "api.md", "python")]
    httpx_block, openai_block = (b for b in blocks if not b.startswith(">>>"))
    make_pdf(tmp_path / "report.pdf")
    monkeypatch.chdir(tmp_path)
    scope: dict[str, Any] = {}
    exec(httpx_block, scope)  # uploads report.pdf, reads it, deletes it
    assert scope["answer"]["citations"][0]["source"] == "germany-lithuania-brigade.txt"
    exec(openai_block, scope)
    assert scope["reply"].model_extra["citations"]
