"""Fakes for unit tests: a hashing embedder (word overlap ranks correctly, no model) and helpers."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Any

import numpy as np
from llama_index.core.base.embeddings.base import BaseEmbedding

from bot.config import Settings

DIM = 384


def hash_vector(text: str, dim: int = DIM) -> list[float]:
    """Feature-hashed bag of lowercase words, L2-normalised (the zero text maps to a fixed unit vector)."""
    vec = np.zeros(dim, dtype=np.float32)
    for word in re.findall(r"\w+", text.lower()):
        vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % dim] += 1.0
    norm = float(np.linalg.norm(vec))
    if norm == 0:
        vec[0] = 1.0
        norm = 1.0
    return (vec / norm).tolist()


class HashingEmbedder(BaseEmbedding):
    """A deterministic llama-index embedding with no model; counts the texts it embeds."""

    calls: list[str] = []

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(model_name="hashing", embed_batch_size=64, **kwargs)
        self.calls = []

    def _get_text_embedding(self, text: str) -> list[float]:
        self.calls.append(text)
        return hash_vector(text)

    def _get_query_embedding(self, query: str) -> list[float]:
        return hash_vector(query)

    async def _aget_query_embedding(self, query: str) -> list[float]:
        return hash_vector(query)


def hashing_settings(index_dir: Path, **overrides: Any) -> Settings:
    """Settings for an index built with the hashing embedder."""
    return Settings.from_env({}, index_dir=index_dir, embed_model="hashing", **overrides)


def write_docs(folder: Path, docs: dict[str, str]) -> Path:
    """Write {relative path: text} under folder and return it."""
    for name, text in docs.items():
        path = folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder
