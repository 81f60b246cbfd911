"""The README's first Python example runs as written and prints what the README shows."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_answer_example(seed_index: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CITEBOT_INDEX_DIR", str(seed_index))
    example = re.search(r"```python\n(>>> from bot import answer.*?)```", README.read_text(encoding="utf-8"), re.S)
    assert example, "the README lost its answer() example"
    test = doctest.DocTestParser().get_doctest(example.group(1), {}, "README", str(README), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
