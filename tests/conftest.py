"""Shared fixtures: offline guard, fake embedder, small indexes, and the real MiniLM index of seeds/."""

from __future__ import annotations

import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
os.environ["TRANSFORMERS_OFFLINE"] = "1"
# The exported ONNX query model goes to a cache made fresh for each session (and inherited by subprocesses).
_CACHE = tempfile.mkdtemp(prefix="citebot-test-cache-")
os.environ["XDG_CACHE_HOME"] = _CACHE

from fakes import HashingEmbedder, hashing_settings, write_docs  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
LOOPBACK = ("127.0.0.1", "::1", "localhost")

DOCS = {
    "animals.txt": "Cats are small domesticated carnivores. Cats sleep for most of the day.\n"
    "Dogs were domesticated from wolves thousands of years ago. Dogs bark at strangers.",
    "space/planets.md": "Mars is called the red planet because of iron oxide on its surface.\n"
    "Jupiter is the largest planet in the solar system. It has a great red spot, a storm older than 300 years.",
    "cooking.txt": "Bread rises because yeast produces carbon dioxide. Sourdough uses a starter of wild yeast.",
}


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--question-sets",
        action="store",
        default=str(ROOT / "tests" / "questions"),
        help="folder of question-set YAML files turned into test items (default: tests/questions)",
    )
    parser.addoption("--docs", action="store", default=str(SEEDS), help="documents the question sets are asked about")


def pytest_unconfigure(config: pytest.Config) -> None:
    shutil.rmtree(_CACHE, ignore_errors=True)


@pytest.fixture(autouse=True)
def no_network(monkeypatch: pytest.MonkeyPatch) -> None:
    """Refuse any connection that is not to loopback: tests never touch the network."""
    real_connect = socket.socket.connect

    def guarded(self: socket.socket, address: object) -> object:
        host = address[0] if isinstance(address, tuple) else address
        if self.family in (socket.AF_INET, socket.AF_INET6) and host not in LOOPBACK:
            raise ConnectionRefusedError(f"test tried to reach the network: {address!r}")
        return real_connect(self, address)  # type: ignore[arg-type]

    monkeypatch.setattr(socket.socket, "connect", guarded)


@pytest.fixture
def docs_dir(tmp_path: Path) -> Path:
    return write_docs(tmp_path / "docs", DOCS)


@pytest.fixture
def hashing_model(monkeypatch: pytest.MonkeyPatch) -> None:
    """Make the CLI and Bot.load use the hashing embedder instead of MiniLM."""
    import index.embedding.embeddings

    monkeypatch.setenv("CITEBOT_EMBED_MODEL", "hashing")
    monkeypatch.setattr(index.embedding.embeddings, "make_embedder", lambda model, threads=None: HashingEmbedder())


@pytest.fixture
def embedder() -> HashingEmbedder:
    return HashingEmbedder()


@pytest.fixture
def tiny_index(docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder) -> Path:
    """An index of DOCS built with the hashing embedder."""
    from index.pipeline import index_paths

    settings = hashing_settings(tmp_path / "index")
    index_paths([docs_dir], settings, embedder=embedder)
    return settings.index_dir


@pytest.fixture(scope="session")
def seed_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The real MiniLM index of seeds/ (built once per session)."""
    from bot.config import Settings
    from index.pipeline import index_paths

    settings = Settings.from_env({}, index_dir=tmp_path_factory.mktemp("seed") / "index")
    index_paths([SEEDS], settings)
    return settings.index_dir


@pytest.fixture(scope="session")
def seed_bot(seed_index: Path) -> Iterator[object]:
    from bot import Bot

    yield Bot.load(seed_index)


@pytest.fixture
def small_disk(tmp_path: Path) -> Iterator[Path]:
    """A 2 MB tmpfs (tests/disks.py), unmounted after the test; skipped where mounting is not permitted."""
    from disks import tmpfs

    with tmpfs(tmp_path / "disk") as folder:
        yield folder
