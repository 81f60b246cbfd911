"""Open the live index wherever it lives: the local store (index/store/reading.py) or Milvus (index/milvus/views.py).

With a `remote` config naming Milvus (CITEBOT_VECTOR_STORE=milvus) no local folder is needed; otherwise these are the
local store's own functions.
"""

from __future__ import annotations

from pathlib import Path

from index.errors import IndexNotFound
from index.store import reading
from index.store.reading import IndexConfig, StoredIndex

__all__ = ["check_index", "live_version", "load_index"]


def _milvus(remote: IndexConfig | None) -> bool:
    return remote is not None and remote.vector_store == "milvus"


def check_index(index_dir: Path, *, remote: IndexConfig | None = None) -> None:
    """Raise IndexNotFound/IndexMismatch, with what to run, when there is no index to answer from (a cheap check)."""
    if remote is not None and _milvus(remote):
        from index.milvus.views import milvus_version

        if milvus_version(remote) is None:
            raise IndexNotFound(f"No citebot index in Milvus at {remote.milvus_uri} (collection "
                                f"{remote.milvus_collection}): run `citebot index <folder>` with "
                                "CITEBOT_VECTOR_STORE=milvus")  # fmt: skip
        return
    reading.check_index(index_dir)


def live_version(index_dir: Path, *, remote: IndexConfig | None = None) -> str | None:
    """The live version's name (None if unreadable): a cheap check for a newer index; `milvus-<n>` in Milvus."""
    if remote is not None and _milvus(remote):
        from index.milvus.views import milvus_version

        return milvus_version(remote)
    return reading.live_version(index_dir)


def load_index(index_dir: Path, *, expect: IndexConfig | None = None, remote: IndexConfig | None = None) -> StoredIndex:
    """Load the live index; with `expect`, check it was built with that model and dimension."""
    if remote is not None and _milvus(remote):
        from index.milvus.views import load_milvus

        return load_milvus(index_dir, remote, expect=expect)
    return reading.load_index(index_dir, expect=expect)
