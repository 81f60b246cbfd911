"""Choose the query embedder: ONNX (no torch import) when its export is usable, else torch with a one-line notice.

`citebot ask` on an existing index opens the ONNX graph in a background thread while the index loads; the first
query waits for it. A missing or broken export loads torch, which exports a fresh one (so the next start is fast)
or, if it can't, answers itself: the vectors are the model's either way.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

from index.embedding import onnx_embed
from index.embedding.onnx_embed import OnnxUnavailable, first_line, load_onnx_embedder, onnx_files

log = logging.getLogger(__name__)


class QueryEmbedder(Protocol):
    """What retrieval needs from a model: one normalised vector per query."""

    def get_query_embedding(self, query: str) -> Any: ...


class LazyEmbedder:
    """A query embedder loaded on first use, or in a background thread from the start; queries wait for it."""

    def __init__(
        self, load: Callable[[], QueryEmbedder], *, background: bool, indexer: Callable[[], Any] | None = None
    ) -> None:
        self._load = load
        self._make_indexer = indexer
        self._indexer: Any = None
        self._lock = threading.Lock()  # held while loading: a query arriving meanwhile waits for the same load
        self._indexer_lock = threading.Lock()  # apart: answers go on while an upload loads the torch model
        self._embedder: QueryEmbedder | None = None
        self._error: BaseException | None = None
        if background:
            # Not a daemon: ONNX Runtime still loading while the interpreter exits (an error path) can crash it.
            threading.Thread(target=self._try_resolve, name="citebot-embedder").start()

    def _try_resolve(self) -> None:
        with self._lock:
            if self._embedder is None and self._error is None:
                try:
                    self._embedder = self._load()
                except BaseException as exc:  # noqa: BLE001 - raised again on every query
                    self._error = exc

    def resolve(self) -> QueryEmbedder:
        """The loaded embedder (loading or waiting for it; raises what loading raised)."""
        if self._embedder is not None:
            return self._embedder
        self._try_resolve()
        if self._error is not None:
            raise self._error
        assert self._embedder is not None
        return self._embedder

    def get_query_embedding(self, query: str) -> Any:
        return self.resolve().get_query_embedding(query)

    def indexing_model(self) -> Any:
        """The torch model that embeds documents (uploads) for this query model, loaded on first use and kept."""
        with self._indexer_lock:
            if self._indexer is None and self._make_indexer is not None:
                self._indexer = self._make_indexer()
        return self._indexer


def make_query_embedder(model: str, *, cache_dir: Path, threads: int = 1) -> QueryEmbedder:
    """ONNX when its export is usable (no torch import); else torch, exporting once so the next start is fast.

    Returns at once: the ONNX session opens in a background thread (the caller loads the index meanwhile) and the
    first query waits for it. Models that are no sentence-transformers folder (test stand-ins) go straight to
    `embeddings.make_embedder`. Whatever goes wrong, one line on stderr (a logging warning) says why torch loaded.
    """
    from index.embedding import embeddings
    from index.embedding.models import local_model

    if model == embeddings.HASH:  # the stand-in: queries without llama-index, uploads with its llama-index twin
        from index.embedding.hash_embed import HashQuery

        return LazyEmbedder(HashQuery, background=False, indexer=lambda: embeddings.make_embedder(model))
    model = local_model(model, cache_dir=cache_dir)  # all-mpnet-base-v2: its folder, unpacked once
    try:
        path = Path(embeddings.model_path(model))
    except Exception:  # not a model folder: the torch side decides (a stand-in, or a message naming the fix)
        return embeddings.make_embedder(model, threads=threads)
    files = onnx_files(cache_dir, path, name=model)
    # An export on disk opens in the background at once; without one, torch loads on the first query only.
    return LazyEmbedder(
        lambda: _onnx_or_torch(model, files, path, threads),
        background=files.meta.exists(),
        indexer=lambda: embeddings.make_embedder(model),
    )


def _onnx_or_torch(model: str, files: onnx_embed.OnnxFiles, path: Path, threads: int) -> QueryEmbedder:
    """The checked ONNX embedder; failing that, torch, which exports a fresh graph if it can."""
    from index.embedding import embeddings

    try:
        return load_onnx_embedder(files, path, threads=threads)
    except OnnxUnavailable as exc:
        reason = str(exc)
    torch_embedder = embeddings.make_embedder(model, threads=threads)
    try:
        onnx = onnx_embed.export_onnx(torch_embedder._model, files, path, threads=threads)  # type: ignore[attr-defined]
    except Exception as exc:  # noqa: BLE001 - any export failure leaves torch answering, correctly
        log.warning("citebot: %s; answering with torch (slower start): export failed (%s)", reason, first_line(exc))
        return torch_embedder
    log.warning("citebot: %s; exported it from the torch model once (later starts skip torch)", reason)
    return onnx


def indexing_model(embedder: Any) -> Any:
    """The model to embed documents with, given the one a Bot queries with: itself if it can, else its torch twin.

    None when there is none (the caller loads the configured model).
    """
    if embedder is None or hasattr(embedder, "get_text_embedding_batch"):  # a torch model or a test stand-in
        return embedder
    return embedder.indexing_model() if hasattr(embedder, "indexing_model") else None


def resolve(embedder: Any) -> Any:
    """The embedder itself once loaded (a LazyEmbedder loads or waits)."""
    return embedder.resolve() if isinstance(embedder, LazyEmbedder) else embedder


def ensure_onnx(embedder: object, model: str, *, cache_dir: Path) -> str | None:
    """After indexing with a loaded torch model, export its ONNX query graph if missing; return a problem or None."""
    from index.embedding import embeddings
    from index.embedding.models import local_model

    st_model = getattr(embedder, "_model", None)
    if st_model is None or not hasattr(st_model, "max_seq_length"):
        return None  # a stand-in embedder: nothing to export
    try:
        model = local_model(model, cache_dir=cache_dir)
        path = Path(embeddings.model_path(model))
        files = onnx_files(cache_dir, path, name=model)
        if not files.meta.exists():
            onnx_embed.export_onnx(st_model, files, path)
    except Exception as exc:  # noqa: BLE001 - queries fall back to torch; say so, don't fail the indexing
        return f"could not export the ONNX query model to {cache_dir} ({first_line(exc)}); queries will load torch"
    return None
