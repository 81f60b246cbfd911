"""CLI behaviour and error paths, in-process with the hashing embedder (no model) unless marked slow."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fakes import ANSWER_KEYS

from ui.cli import main

ROOT = Path(__file__).resolve().parents[2]


def _python(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-c", code, *args], capture_output=True, text=True, cwd=ROOT, timeout=60)


def test_help_lists_commands_with_examples_and_imports_no_torch() -> None:
    code = (
        "import sys\nfrom ui.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
        "print('HEAVY' if {'torch', 'llama_index.core', 'sentence_transformers'} & set(sys.modules) else 'LIGHT')"
    )
    for argv in (["--help"], ["ask", "--help"], ["ask"], ["index", "--bogus"]):
        run = _python(code, *argv)
        assert run.stdout.strip().endswith("LIGHT"), (argv, run.stdout[-200:])
    help_text = _python(code, "--help").stdout
    for word in ("index", "ask", "chat", "eval", 'citebot ask "Why can\'t Ukraine join NATO?"'):
        assert word in help_text


def test_no_command_prints_help(capsys: pytest.CaptureFixture[str]) -> None:
    assert main([]) == 2
    assert "usage: citebot" in capsys.readouterr().out


def test_empty_question_fails_fast(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["ask", "   ", "--index-dir", str(tmp_path)]) == 2
    assert capsys.readouterr().err == "citebot: error: The question is empty: ask something about the documents\n"


def test_missing_index_says_what_to_run(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["ask", "Why?", "--index-dir", str(tmp_path / "none")]) == 2
    err = capsys.readouterr().err
    assert "No index at" in err and "citebot index" in err and "Traceback" not in err


def test_bad_path_and_empty_folder(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    assert main(["index", str(tmp_path / "nope"), "--index-dir", str(tmp_path / "ix")]) == 2
    assert "No such file or folder" in capsys.readouterr().err
    (tmp_path / "empty").mkdir()
    assert main(["index", str(tmp_path / "empty"), "--index-dir", str(tmp_path / "ix")]) == 2
    assert "No readable" in capsys.readouterr().err


def test_bad_setting_is_a_message(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITEBOT_TOP_K", "lots")
    assert main(["ask", "Why?"]) == 2
    assert "CITEBOT_TOP_K='lots' is not a valid int" in capsys.readouterr().err


@pytest.mark.usefixtures("hashing_model")
def test_index_skips_bad_files_and_ask_answers(
    capsys: pytest.CaptureFixture[str], docs_dir: Path, tmp_path: Path
) -> None:
    (docs_dir / "bad.txt").write_bytes(b"\x00\xff" * 50)
    ix = str(tmp_path / "ix")
    assert main(["index", str(docs_dir), "--index-dir", ix]) == 0
    out, err = capsys.readouterr()
    assert "citebot: warning: skipped bad.txt: binary file" in err
    assert "3 added" in out and "into" in out
    assert main(["index", str(docs_dir), "--index-dir", ix]) == 0
    assert "0 texts embedded" in capsys.readouterr().out
    assert main(["ask", "Which planet is the largest?", "--index-dir", ix, "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert list(data) == ANSWER_KEYS
    assert data["citations"][0]["source"] == "space/planets.md" and "[1]" in data["answer"]
    assert main(["ask", "Which planet is the largest?", "--index-dir", ix]) == 0
    assert "[1] space/planets.md:" in capsys.readouterr().out


@pytest.mark.usefixtures("hashing_model")
def test_chat_keeps_history_until_eof(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny_index: Path
) -> None:
    lines = iter(["Tell me about Jupiter, the largest planet", "", "How old is its storm?"])

    def fake_input(prompt: str) -> str:
        try:
            return next(lines)
        except StopIteration:
            raise EOFError from None

    monkeypatch.setattr("builtins.input", fake_input)
    assert main(["chat", "--index-dir", str(tiny_index)]) == 0
    out = capsys.readouterr().out
    assert "Jupiter is the largest planet" in out and "The question is empty" in out and "300 years" in out


@pytest.mark.usefixtures("hashing_model")
def test_eval_exit_codes_and_report(capsys: pytest.CaptureFixture[str], tiny_index: Path, tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text(
        "- id: jupiter\n  question: Which planet is the largest?\n  expect: {contains_any: [Jupiter]}\n"
        "- id: off\n  question: Quantum chromodynamics lattice?\n  expect: {refusal: true}\n",
        encoding="utf-8",
    )
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        "- id: wrong\n  question: Which planet is the largest?\n  expect: {contains_any: [Saturn]}\n", encoding="utf-8"
    )
    report = tmp_path / "report.json"
    assert main(["eval", str(good), "--index-dir", str(tiny_index), "--report", str(report)]) == 0
    assert "2/2 passed" in capsys.readouterr().out
    data = json.loads(report.read_text(encoding="utf-8"))
    assert data["summary"]["refusal_accuracy"] == 1.0 and data["cases"][0]["answers"][0]["citations"]
    assert main(["eval", str(bad), "--index-dir", str(tiny_index)]) == 1
    out = capsys.readouterr().out
    assert "FAIL wrong" in out and "contains_any: none of ['Saturn'] in answer" in out
    (tmp_path / "broken.yaml").write_text("- id: x\n  question: Q\n  oops: 1\n", encoding="utf-8")
    assert main(["eval", str(tmp_path / "broken.yaml")]) == 2
    assert "case x: unknown key 'oops'" in capsys.readouterr().err


@pytest.mark.usefixtures("hashing_model")
def test_eval_indexes_docs_first(capsys: pytest.CaptureFixture[str], docs_dir: Path, tmp_path: Path) -> None:
    qs = tmp_path / "set.yaml"
    qs.write_text(
        "- id: mars\n  question: Why is Mars called the red planet?\n  expect: {contains_any: [iron oxide]}\n",
        encoding="utf-8",
    )
    assert main(["eval", str(qs), "--docs", str(docs_dir)]) == 0
    assert "PASS mars" in capsys.readouterr().out


@pytest.mark.usefixtures("hashing_model")
def test_chat_save_then_eval_passes(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tiny_index: Path, docs_dir: Path
) -> None:
    lines = iter(["/save", "Tell me about Jupiter, the largest planet", "How old is its storm?", "/save 300 years,",
                  "Which planet is the largest?", "/wrong", "quit"])  # fmt: skip
    monkeypatch.setattr("builtins.input", lambda prompt: next(lines))
    assert main(["chat", "--index-dir", str(tiny_index)]) == 0
    out = capsys.readouterr().out
    saved = docs_dir / "questions" / "saved.yaml"
    assert "Nothing to save yet" in out and f"Case 'how-old-is-its-storm' saved in {saved}" in out
    assert f"marked wrong (add `expect:` to check it) in {saved}" in out
    assert main(["eval", str(saved), "--index-dir", str(tiny_index)]) == 0
    out = capsys.readouterr().out
    assert "PASS how-old-is-its-storm" in out and "UNCHECKED which-planet-is-the-largest" in out
    assert "1/2 passed, 0 failed, 1 unchecked" in out
