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
