"""The CI snippet of docs/question-sets.md, run as written (its eval lines) on a copy of the seed questions: passes,
then fails on a deliberate regression against the baseline it wrote."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parent.parent


def _snippet() -> str:
    """The eval lines of the docs' CI step (the set-up lines before them install citebot, done here already)."""
    page = (ROOT / "docs" / "question-sets.md").read_text(encoding="utf-8")
    block = re.search(r"## In CI.*?```bash\n(.*?)```", page, re.S)
    assert block, "docs/question-sets.md lost its CI snippet"
    lines = block.group(1).splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("export HF_HUB_OFFLINE"))
    return "set -eu\n" + "\n".join(lines[start:])


def test_ci_snippet_passes_then_fails_on_a_regression(tmp_path: Path) -> None:
    shutil.copytree(ROOT / "seeds", tmp_path / "seeds")
    shutil.copytree(ROOT / "tests" / "questions", tmp_path / "tests" / "questions")
    env = {**os.environ, "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}

    def run() -> subprocess.CompletedProcess[str]:
        return subprocess.run(["bash", "-c", _snippet()], cwd=tmp_path, env=env, capture_output=True, text=True)

    first = run()
    assert first.returncode == 0, first.stdout[-2000:] + first.stderr[-2000:]
    assert (tmp_path / "eval.html").stat().st_size > 1000
    shutil.copy(tmp_path / "eval.json", tmp_path / "tests" / "questions" / "baseline.json")
    seed = tmp_path / "tests" / "questions" / "seed.yaml"
    seed.write_text(seed.read_text(encoding="utf-8").replace('["Kaliningrad"]', '["Königsberg"]'), encoding="utf-8")
    second = run()
    assert second.returncode == 1 and "Regressed (1):\n  seed.yaml:kaliningrad (was pass)" in second.stderr
