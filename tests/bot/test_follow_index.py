"""A running Bot follows its index: a version written by another process is answered from with no restart."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from fakes import HashingEmbedder, hashing_settings

from bot import Bot, Settings
from bot.library import Library
from index.pipeline import index_paths

ROOT = Path(__file__).resolve().parents[2]
INDEXER = textwrap.dedent(
    """
    import sys
    sys.path[:0] = [{tests!r}, {root!r}]
    from pathlib import Path
    from fakes import HashingEmbedder, hashing_settings
    from index.pipeline import index_paths

    index_paths([Path(sys.argv[1])], hashing_settings(Path(sys.argv[2])), embedder=HashingEmbedder())
    """
)


def test_a_version_written_by_another_process_is_answered_without_reload(
    tiny_index: Path, docs_dir: Path, tmp_path: Path
) -> None:
    bot = Bot.load(tiny_index, embedder=HashingEmbedder(), settings=hashing_settings(tiny_index))
    assert "feathers" not in bot.answer("When do owls hunt?").text
    (docs_dir / "owls.txt").write_text("Owls hunt at night with silent feathers.", encoding="utf-8")
    script = tmp_path / "indexer.py"
    script.write_text(INDEXER.format(tests=str(ROOT / "tests"), root=str(ROOT)), encoding="utf-8")
    subprocess.run([sys.executable, str(script), str(docs_dir), str(tiny_index)], check=True, timeout=120)
    answer = bot.answer("When do owls hunt?")
    assert "silent feathers" in answer.text and answer.citations[0].source == "owls.txt"
    assert "owls.txt" in {d.name for d in Library(bot.settings, bot=bot).documents()}


def test_answers_keep_their_version_while_another_is_followed(tiny_index: Path, docs_dir: Path) -> None:
    """Threads asking while a new version appears each get a whole answer from one version or the other."""
    bot = Bot.load(tiny_index, embedder=HashingEmbedder(), settings=hashing_settings(tiny_index))
    errors: list[BaseException] = []

    def ask() -> None:
        try:
            for _ in range(20):
                assert "Jupiter" in bot.answer("Which planet is the largest in the solar system?").text
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask) for _ in range(3)]
    for t in threads:
        t.start()
    for i in range(3):
        (docs_dir / f"new{i}.txt").write_text(f"Owls number {i} hunt at night.", encoding="utf-8")
        index_paths([docs_dir], hashing_settings(tiny_index), embedder=HashingEmbedder())
    for t in threads:
        t.join()
    assert errors == []
    bot.answer("When do owls hunt?")
    assert {"new0.txt", "new1.txt", "new2.txt"} <= {c.source for c in bot.stored.chunks}


def test_a_version_built_with_another_model_is_refused_with_a_warning(tiny_index: Path, docs_dir: Path) -> None:
    bot = Bot.load(tiny_index, embedder=HashingEmbedder(), settings=hashing_settings(tiny_index))
    loaded = bot.stored.path
    index_paths([docs_dir], Settings.from_env({}, index_dir=tiny_index, embed_model="hash"), rebuild=True)
    answer = bot.answer("Which planet is the largest in the solar system?")
    assert "Jupiter" in answer.text and bot.stored.path == loaded
    assert any("rebuilt with another embedding model" in w for w in answer.warnings)
    assert len(bot.answer("Why does bread rise?").warnings) == 1
