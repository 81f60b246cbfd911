"""benchmarks/first_asking.py end to end at a tiny size: every row of its table is printed, with a number."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_first_asking_prints_every_row(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    argv = [sys.executable, str(ROOT / "benchmarks" / "first_asking.py"), "--chunks", "60", "--questions", "3",
            "--no-drop", "--workdir", str(tmp_path), "--answers", str(tmp_path / "answers.json")]  # fmt: skip
    out = subprocess.run(argv, env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    for row in ("`citebot index` from scratch", "index on disk", "cold `citebot ask`", "3 new questions, p50 / p95",
                "read per new question", "the same questions again, p50", "add one file"):  # fmt: skip
        assert row in out
    assert "answers the same in both processes: True" in out
    assert (tmp_path / "build60.json").exists() and (tmp_path / "answers.json").exists()
    given = [*argv[:6], "--no-drop", "--index", str(tmp_path / "ix60"), "--docs", str(tmp_path / "docs60")]
    again = subprocess.run(given, env=env, cwd=ROOT, check=True, capture_output=True, text=True)
    assert "not by this run (--index)" in again.stdout and "3 new questions, p50 / p95" in again.stdout
