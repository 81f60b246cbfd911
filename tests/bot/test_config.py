from pathlib import Path

import pytest

from bot.config import Settings
from bot.errors import CitebotError


def test_defaults() -> None:
    s = Settings.from_env({})
    assert s.index_dir == Path(".citebot/index") and s.docs_dir == Path("seeds") and s.top_k == 5


def test_environment_then_overrides() -> None:
    env = {"CITEBOT_INDEX_DIR": "/tmp/ix", "CITEBOT_TOP_K": "7", "CITEBOT_STRICT": "yes", "CITEBOT_MIN_SCORE": "0.4"}
    s = Settings.from_env(env)
    assert (s.index_dir, s.top_k, s.strict, s.min_score) == (Path("/tmp/ix"), 7, True, 0.4)
    assert Settings.from_env(env, index_dir=Path("other"), top_k=None).index_dir == Path("other")
    assert Settings.from_env(env, top_k=None).top_k == 7


def test_bad_environment_value_names_the_variable() -> None:
    with pytest.raises(CitebotError, match="CITEBOT_TOP_K='many'"):
        Settings.from_env({"CITEBOT_TOP_K": "many"})


@pytest.mark.parametrize(
    "name,bad,allowed",
    [
        ("chunk_vectors", "lateish", "late, embed, pool"),
        ("vector_store", "milvs", "faiss, milvus"),
        ("llm", "openai", "none, openai-compatible, llama-cpp"),
        ("llm_unsupported", "hide", "flag, drop"),
    ],
)
def test_fixed_choices_are_checked_when_read(name: str, bad: str, allowed: str) -> None:
    variable = f"CITEBOT_{name.upper()}"
    with pytest.raises(CitebotError) as env_error:
        Settings.from_env({variable: bad})
    assert str(env_error.value) == f"{variable}={bad!r} is not one of: {allowed}"
    with pytest.raises(CitebotError, match=f"^{name}={bad!r} is not one of: {allowed}$"):
        Settings.from_env({}, **{name: bad})
    good = allowed.split(", ")[-1]
    assert getattr(Settings.from_env({variable: good}), name) == good


def test_a_bad_choice_in_the_cli_is_a_message_not_a_traceback(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ui.cli import main

    monkeypatch.setenv("CITEBOT_VECTOR_STORE", "milvs")
    assert main(["ask", "Why?"]) == 2
    assert "CITEBOT_VECTOR_STORE='milvs' is not one of: faiss, milvus" in capsys.readouterr().err
