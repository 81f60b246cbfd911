import json
import shutil
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from fakes import HashingEmbedder, hashing_settings

from bot.errors import IndexMismatch, IndexNotFound, NoDocuments
from index.access import load_index
from index.pipeline import index_config, index_paths
from index.store.locking import LOCK_FILE
from index.store.reading import CURRENT


def _build(docs: Path, index_dir: Path, embedder: HashingEmbedder):  # type: ignore[no-untyped-def]
    return index_paths([docs], hashing_settings(index_dir), embedder=embedder)[0]


def test_build_and_load_round_trip(docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder) -> None:
    report = _build(docs_dir, tmp_path / "ix", embedder)
    assert report.added == ["animals.txt", "cooking.txt", "space/planets.md"]
    stored = load_index(tmp_path / "ix")
    assert len(stored.chunks) == report.chunks == 3
    assert stored.manifest["format"] == 5 and stored.manifest["dim"] == 384
    assert set(stored.manifest["files"]) == set(report.added)
    for chunk in stored.chunks:
        assert (docs_dir / chunk.source).read_text(encoding="utf-8")[chunk.start : chunk.end] == chunk.text
    for sentence in stored.sentences:
        assert (docs_dir / sentence.source).read_text(encoding="utf-8")[sentence.start : sentence.end] == sentence.text
    assert stored.sentence_vectors.shape == (len(stored.sentences), 384)


def test_unchanged_folder_embeds_nothing_and_writes_nothing(
    docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder
) -> None:
    _build(docs_dir, tmp_path / "ix", embedder)
    version = (tmp_path / "ix" / CURRENT).read_text(encoding="utf-8")
    embedder.calls.clear()
    report = _build(docs_dir, tmp_path / "ix", embedder)
    assert embedder.calls == [] and report.embedded == 0
    assert report.unchanged == ["animals.txt", "cooking.txt", "space/planets.md"]
    assert (tmp_path / "ix" / CURRENT).read_text(encoding="utf-8") == version


def test_only_changed_and_added_files_are_embedded(docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder) -> None:
    _build(docs_dir, tmp_path / "ix", embedder)
    before = load_index(tmp_path / "ix")
    (docs_dir / "cooking.txt").write_text("Pasta cooks in ten minutes in boiling salted water.", encoding="utf-8")
    (docs_dir / "new.txt").write_text("Owls hunt at night.", encoding="utf-8")
    (docs_dir / "animals.txt").unlink()
    embedder.calls.clear()
    report = _build(docs_dir, tmp_path / "ix", embedder)
    assert (report.added, report.changed, report.removed) == (["new.txt"], ["cooking.txt"], ["animals.txt"])
    embedded = " ".join(embedder.calls)
    assert "Pasta" in embedded and "Owls" in embedded
    assert "Jupiter" not in embedded and "Cats" not in embedded, "unchanged or removed files were re-embedded"
    after = load_index(tmp_path / "ix")
    assert {c.source for c in after.chunks} == {"cooking.txt", "new.txt", "space/planets.md"}
    assert not any("Cats" in s.text for s in after.sentences)
    # the unchanged file kept its exact vectors
    old = {s.text: v for s, v in zip(before.sentences, before.sentence_vectors, strict=True)}
    for s, v in zip(after.sentences, after.sentence_vectors, strict=True):
        if s.source == "space/planets.md":
            assert (old[s.text] == v).all()


def test_removing_a_file_embeds_nothing(docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder) -> None:
    _build(docs_dir, tmp_path / "ix", embedder)
    (docs_dir / "cooking.txt").unlink()
    embedder.calls.clear()
    report = _build(docs_dir, tmp_path / "ix", embedder)
    assert report.removed == ["cooking.txt"] and report.embedded == 0 and embedder.calls == []
    stored = load_index(tmp_path / "ix")
    assert {c.source for c in stored.chunks} == {"animals.txt", "space/planets.md"}
    assert stored.chunk_vectors.shape == (2, 384) and len(stored.sentence_vectors) == len(stored.sentences)


def test_missing_index_says_what_to_run(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFound, match="citebot index"):
        load_index(tmp_path / "nothing")


def test_index_from_another_model_or_newer_format_is_refused(tiny_index: Path) -> None:
    other = index_config(hashing_settings(tiny_index)).__class__("other-model", 768, 200, 40)
    with pytest.raises(IndexMismatch, match="other-model|hashing"):
        load_index(tiny_index, expect=other)
    live = tiny_index / json.loads((tiny_index / CURRENT).read_text(encoding="utf-8"))
    manifest = json.loads((live / "manifest.json").read_text(encoding="utf-8"))
    (live / "manifest.json").write_text(json.dumps({**manifest, "format": 99}), encoding="utf-8")
    with pytest.raises(IndexMismatch, match="newer citebot"):
        load_index(tiny_index)


def test_older_or_damaged_index_says_rebuild_and_index_rebuilds_it(
    docs_dir: Path, tiny_index: Path, embedder: HashingEmbedder
) -> None:
    live = tiny_index / json.loads((tiny_index / CURRENT).read_text(encoding="utf-8"))
    shutil.rmtree(tiny_index / "segments")
    with pytest.raises(IndexMismatch, match="damaged .*citebot index --rebuild"):
        load_index(tiny_index)
    manifest = json.loads((live / "manifest.json").read_text(encoding="utf-8"))
    (live / "manifest.json").write_text(json.dumps({**manifest, "format": 1}), encoding="utf-8")
    with pytest.raises(IndexMismatch, match="older citebot: run `citebot index --rebuild`"):
        load_index(tiny_index)
    embedder.calls.clear()
    report = _build(docs_dir, tiny_index, embedder)
    assert report.added == ["animals.txt", "cooking.txt", "space/planets.md"] and embedder.calls
    assert len(load_index(tiny_index).chunk_vectors) == 3


def test_no_documents_is_an_error(tmp_path: Path, embedder: HashingEmbedder) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(NoDocuments, match="No readable"):
        _build(tmp_path / "empty", tmp_path / "ix", embedder)
    with pytest.raises(NoDocuments, match="No such file"):
        _build(tmp_path / "missing", tmp_path / "ix", embedder)


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    sys.path[:0] = [{tests!r}, {root!r}]
    from pathlib import Path
    from fakes import HashingEmbedder, hashing_settings
    import index.store.build as store
    from index.pipeline import index_paths

    point, target = sys.argv[1], int(sys.argv[2])
    seen = {{"embed": 0, "replace": 0}}
    embedder = HashingEmbedder()
    real_embed, real_replace = embedder._get_text_embedding, os.replace

    def maybe_die(kind):
        seen[kind] += 1
        if kind == point and seen[kind] == target:
            os.kill(os.getpid(), signal.SIGKILL)

    def embed(text):
        maybe_die("embed")
        return real_embed(text)

    def replace(a, b):
        maybe_die("replace")
        return real_replace(a, b)

    object.__setattr__(embedder, "_get_text_embedding", embed)
    store.os.replace = replace
    index_paths([Path(sys.argv[3])], hashing_settings(Path(sys.argv[4])), embedder=embedder)
    """
)


@pytest.mark.parametrize("point,target", [("embed", 1), ("embed", 2), ("replace", 1), ("replace", 2)])
def test_killed_indexing_leaves_previous_index_loadable(
    docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder, point: str, target: int
) -> None:
    """SIGKILL while embedding, before the new version is in place, and between that and the CURRENT swap."""
    from bot import Bot

    index_dir = tmp_path / "ix"
    _build(docs_dir, index_dir, embedder)
    (docs_dir / "new.txt").write_text("Owls hunt at night with silent feathers.", encoding="utf-8")
    script = tmp_path / "killer.py"
    tests = str(Path(__file__).resolve().parents[2])
    script.write_text(KILLER.format(tests=tests, root=str(Path(tests).parent)), encoding="utf-8")
    run = subprocess.run([sys.executable, str(script), point, str(target), str(docs_dir), str(index_dir)], timeout=120)
    assert run.returncode == -9, "the indexer was not killed at the chosen point"
    bot = Bot.load(index_dir, embedder=HashingEmbedder())
    assert "Jupiter" in bot.answer("Which planet is the largest in the solar system?").text
    assert {c.source for c in bot.stored.chunks} == {"animals.txt", "cooking.txt", "space/planets.md"}
    report = _build(docs_dir, index_dir, embedder)  # the next run completes and cleans up
    assert report.added == ["new.txt"]
    versions = {p.name for p in index_dir.iterdir()} - {CURRENT, LOCK_FILE, "segments"}
    assert json.loads((index_dir / CURRENT).read_text()) in versions and len(versions) <= 2  # the live one, the last
    assert not [p for p in (index_dir / "segments").iterdir() if p.name.startswith(".tmp-")]
    assert "silent feathers" in Bot.load(index_dir, embedder=HashingEmbedder()).answer("When do owls hunt?").text


def test_pooled_chunk_vectors_embed_each_sentence_once(
    docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder
) -> None:
    from dataclasses import replace

    import numpy as np

    settings = replace(hashing_settings(tmp_path / "ix"), chunk_vectors="pool")
    report, _ = index_paths([docs_dir], settings, embedder=embedder)
    stored = load_index(tmp_path / "ix")
    assert report.embedded == len(stored.sentences) and len(embedder.calls) == len(stored.sentences)
    faiss_index = stored.dense.layout.segments[0].dense.flat  # type: ignore[attr-defined]
    members = stored.chunk_sentences[0]
    mean = stored.sentence_vectors[members].mean(axis=0)
    # pooled from the float32 sentence vectors, stored as float16 (index/store/sentence_vectors.py)
    assert np.allclose(faiss_index.reconstruct(0), mean / np.linalg.norm(mean), atol=1e-3)
    assert np.allclose(stored.chunk_vectors[0], faiss_index.reconstruct(0))
    assert stored.manifest["chunk_vectors"] == "pool"
    embedder.calls.clear()
    index_paths([docs_dir], hashing_settings(tmp_path / "ix"), embedder=embedder)  # other setting: full rebuild
    assert len(embedder.calls) == len(stored.sentences) + len(stored.chunks)


def test_large_corpora_get_an_ivf_index_searched_with_nprobe(
    docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A merged segment that is large in a large index gets IVF (here: every file a segment, every 2 merged)."""
    import faiss

    import index.search.vectorstores as vs
    import index.store.build as store
    import index.store.merging
    from bot import Bot

    assert vs.faiss_spec(1000) == "Flat" and vs.faiss_spec(1_000_000) == "IVF4000,SQ8" and vs.nprobe(4000) == 256
    for name, value in (("BATCH_CHUNKS", 1), ("IVF_MIN", 0), ("FLAT_MAX_N", 0), ("ivf_spec", lambda n: "IVF1,SQ8")):
        monkeypatch.setattr(store, name, value)
    monkeypatch.setattr(index.store.merging, "FACTOR", 2)
    _build(docs_dir, tmp_path / "ix", embedder)
    stored = load_index(tmp_path / "ix")
    segments = stored.dense.layout.segments  # type: ignore[attr-defined]
    assert [s.meta["faiss"] for s in segments] == ["IVF1,SQ8"]  # 2 merged, then with the third
    index = segments[0].dense.index
    assert isinstance(index, faiss.IndexIVFScalarQuantizer) and index.nprobe == 128
    bot = Bot.load(tmp_path / "ix", embedder=HashingEmbedder())
    assert "Jupiter" in bot.answer("Which planet is the largest in the solar system?").text


def test_segments_follow_the_index_size_across_flat_max_n(
    docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A segment merged while the index was small gets IVF once an update takes the index past FLAT_MAX_N, and exact
    search again when one takes it back (index/store/respec.py): the kind depends on the index's size now, not then."""
    import index.store.build as store
    import index.store.merging
    from bot import Bot

    assert store.segment_spec(131_076, 250_000) == "Flat" and store.segment_spec(131_076, 250_001) == "IVF1448,SQ8"
    assert store.segment_spec(16_384, 1_000_000) == "Flat"
    for name, value in (("BATCH_CHUNKS", 1), ("IVF_MIN", 2), ("FLAT_MAX_N", 1000), ("ivf_spec", lambda n: "IVF1,SQ8")):
        monkeypatch.setattr(store, name, value)
    monkeypatch.setattr(index.store.merging, "FACTOR", 2)
    question = "Which planet is the largest in the solar system?"

    def kinds() -> list[tuple[int, str]]:
        segments = load_index(tmp_path / "ix").dense.layout.segments  # type: ignore[attr-defined]
        assert Bot.load(tmp_path / "ix", embedder=HashingEmbedder()).answer(question).text.count("Jupiter")
        return [(s.chunk_count, type(s.dense).__name__) for s in segments]

    _build(docs_dir, tmp_path / "ix", embedder)
    assert [k for _, k in kinds()] == ["ExactSearch"]  # merged, Flat: the index is small
    monkeypatch.setattr(store, "FLAT_MAX_N", 0)
    monkeypatch.setattr(
        index.store.merging, "FACTOR", 100
    )  # no merge: the merged segment is rewritten for the new size
    (docs_dir / "new.txt").write_text("Saturn has rings of ice.", encoding="utf-8")
    _build(docs_dir, tmp_path / "ix", embedder)
    now = kinds()
    assert now == [(3, "FaissSearch"), (1, "ExactSearch")]
    monkeypatch.setattr(store, "FLAT_MAX_N", 1000)
    (docs_dir / "new.txt").unlink()
    _build(docs_dir, tmp_path / "ix", embedder)
    assert {k for _, k in kinds()} == {"ExactSearch"}


def test_a_rewrite_that_fails_leaves_the_previous_index_and_the_next_run_completes(
    docs_dir: Path, tmp_path: Path, embedder: HashingEmbedder, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A failure while a segment's FAISS index is rewritten (index/store/respec.py) leaves the live version as it
    was."""
    import index.store.build as store
    import index.store.merging
    import index.store.respec
    from bot import Bot

    for name, value in (("BATCH_CHUNKS", 1), ("IVF_MIN", 2), ("FLAT_MAX_N", 1000), ("ivf_spec", lambda n: "IVF1,SQ8")):
        monkeypatch.setattr(store, name, value)
    monkeypatch.setattr(index.store.merging, "FACTOR", 2)
    _build(docs_dir, tmp_path / "ix", embedder)
    live = (tmp_path / "ix" / CURRENT).read_text()
    monkeypatch.setattr(store, "FLAT_MAX_N", 0)
    monkeypatch.setattr(index.store.merging, "FACTOR", 100)
    (docs_dir / "new.txt").write_text("Saturn has rings of ice.", encoding="utf-8")

    def fail(*_: object, **__: object) -> None:
        raise OSError("disk full")

    with monkeypatch.context() as m:
        m.setattr(index.store.respec, "write_faiss", fail)
        with pytest.raises(OSError):
            _build(docs_dir, tmp_path / "ix", embedder)
    assert (tmp_path / "ix" / CURRENT).read_text() == live
    question = "Which planet is the largest in the solar system?"
    assert "Jupiter" in Bot.load(tmp_path / "ix", embedder=HashingEmbedder()).answer(question).text
    assert _build(docs_dir, tmp_path / "ix", embedder).added == ["new.txt"]
    assert not [p for p in (tmp_path / "ix" / "segments").iterdir() if p.name.startswith(".tmp-")]
    kinds = [type(s.dense).__name__ for s in load_index(tmp_path / "ix").dense.layout.segments]  # type: ignore[attr-defined]
    assert kinds == ["FaissSearch", "ExactSearch"]


def test_hash_embedder_works_from_the_cli_and_a_minilm_load_refuses_its_index(
    docs_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    from ui.cli import main

    ix = ["--index-dir", str(tmp_path / "ix")]
    monkeypatch.setenv("CITEBOT_EMBED_MODEL", "hash")
    assert main(["index", str(docs_dir), "-q", *ix]) == 0
    assert main(["ask", "Which planet is the largest in the solar system?", *ix]) == 0
    assert "Jupiter" in capsys.readouterr().out
    monkeypatch.delenv("CITEBOT_EMBED_MODEL")
    assert main(["ask", "Which planet is the largest in the solar system?", *ix]) == 2
    err = capsys.readouterr().err
    assert "built with hash" in err and "citebot index --rebuild" in err
