"""docs/api.md's gradio_client example, run as written against a real server over seeds/: it prints what it shows."""

from __future__ import annotations

import doctest
import re
from pathlib import Path

import pytest

pytestmark = pytest.mark.slow
PAGE = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def test_the_gradio_client_example_answers_as_shown(server: str) -> None:
    example = re.search(r"```python\n(>>> import os.*?)```", PAGE.read_text(encoding="utf-8"), re.S)
    assert example, "docs/api.md lost its gradio_client example"
    text = example.group(1).replace("http://127.0.0.1:7860", server)
    test = doctest.DocTestParser().get_doctest(text, {}, "docs/api.md", str(PAGE), 0)
    runner = doctest.DocTestRunner(optionflags=doctest.NORMALIZE_WHITESPACE)
    runner.run(test)
    assert runner.summarize(verbose=False).failed == 0
