"""A stand-in embedder for benchmarks and tests only: feature-hashed words, no model, deterministic.

`CITEBOT_EMBED_MODEL=hash` builds and answers with it, so storage and retrieval can be measured at a million chunks
without hours of encoding. Its vectors match words, not meanings: never use it for real answers. An index built with
it is refused by a normal (MiniLM) load and the other way round, as any model mismatch is.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import numpy as np

NAME = "hash"
DIM = 384


def hash_vector(text: str, dim: int = DIM) -> list[float]:
    """Feature-hashed bag of lowercase words, L2-normalised (the zero text maps to a fixed unit vector).

    Example: hash_vector("Cats cats") == hash_vector("cats")
    """
    vec = np.zeros(dim, dtype=np.float32)
    for word in re.findall(r"\w+", text.lower()):
        vec[int(hashlib.md5(word.encode()).hexdigest(), 16) % dim] += 1.0
    norm = float(np.linalg.norm(vec))
    if norm == 0:
        vec[0] = 1.0
        norm = 1.0
    out: list[float] = (vec / norm).tolist()
    return out


class HashQuery:
    """hash_vector for queries, without llama-index (a cold `citebot ask` does not import it)."""

    def get_query_embedding(self, query: str) -> list[float]:
        return hash_vector(query)


class HashEmbedder:
    """hash_vector for documents, as `embeddings.batch_embed` calls an embedding model: without llama-index, whose
    import would otherwise be most of a one-file update measured with this stand-in."""

    model_name = NAME

    def get_text_embedding_batch(self, texts: list[str], **kwargs: Any) -> list[list[float]]:
        return [hash_vector(t) for t in texts]

    def get_text_embedding(self, text: str) -> list[float]:
        return hash_vector(text)

    def get_query_embedding(self, query: str) -> list[float]:
        return hash_vector(query)
