"""Settings: the one place that reads configuration (CITEBOT_* environment variables)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, Literal, get_args

from bot.errors import CitebotError

EMBED_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
ChunkVectors = Literal["late", "embed", "pool"]
VectorStore = Literal["faiss", "milvus"]
LLMBackend = Literal["none", "openai-compatible", "llama-cpp"]
Unsupported = Literal["flag", "drop"]
CHOICES: dict[str, tuple[str, ...]] = {
    "chunk_vectors": get_args(ChunkVectors),
    "vector_store": get_args(VectorStore),
    "llm": get_args(LLMBackend),
    "llm_unsupported": get_args(Unsupported),
}


def default_reader_dir() -> Path:
    """The reader model shipped with citebot (models/reader/)."""
    return Path(__file__).resolve().parent.parent / "models" / "reader"


def default_cache_dir() -> Path:
    """Where exported models are kept: $XDG_CACHE_HOME/citebot, else ~/.cache/citebot."""
    return Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "citebot"


@dataclass(frozen=True)
class Settings:
    """Everything tunable, with defaults that work on a laptop.

    `min_score` is the refusal threshold on the best sentence's evidence (bot/extractive.py); --strict also refuses
    when the probability that the documents answer (the reader's and the evidence's, bot/engine.py `answerable`) is
    below `strict_min_score` (docs/reader.md).
    """

    docs_dir: Path = Path("seeds")
    index_dir: Path = Path(".citebot/index")
    embed_model: str = EMBED_MODEL
    chunk_size: int = 200
    chunk_overlap: int = 40
    chunk_vectors: ChunkVectors = "late"  # late | embed | pool: how chunk and sentence vectors are made
    vector_store: VectorStore = "faiss"  # faiss | milvus
    milvus_uri: str = ""  # default <index_dir>/milvus.db (Milvus Lite); a cluster: http://host:19530
    milvus_collection: str = "citebot"  # the index's collections in Milvus: <this>_chunks, _sentences, _state
    top_k: int = 5
    min_score: float = 0.345
    strict: bool = False
    strict_min_score: float = 0.1
    reader_dir: Path = field(default_factory=default_reader_dir)  # the reader model (bot/reader.py)
    max_sentences: int = 2
    respell: bool = True  # misspelled question words searched as the documents spell them (bot/question/spelling.py)
    query_threads: int = 1
    reader_workers: int = 2  # (question, sentence) pairs the reader reads at once, each on one of query_threads
    cache_dir: Path = field(default_factory=default_cache_dir)  # the ONNX query model (index/query_embed.py)
    auth: str = ""
    max_upload_mb: int = 10
    saved_questions: str = "questions/saved.yaml"  # where chat turns are saved as tests; relative to the documents
    conversations: str = ""  # the conversation store (bot/conversations.py): default beside the index; "off": none
    llm: LLMBackend = "none"  # none | openai-compatible | llama-cpp
    llm_base_url: str = "http://127.0.0.1:11434/v1"  # Ollama's; llama.cpp server: http://127.0.0.1:8080/v1
    llm_model: str = ""
    llm_api_key: str = ""
    llm_model_path: str = ""  # a .gguf file, for llama-cpp
    llm_timeout: float = 30.0
    llm_unsupported: Unsupported = "flag"  # sentences without a valid citation: flag | drop

    def __post_init__(self) -> None:
        for name, allowed in CHOICES.items():
            _check_choice(name, getattr(self, name), allowed)

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """Defaults, then `CITEBOT_<FIELD>` variables, then explicit overrides (None is ignored).

        Example: CITEBOT_INDEX_DIR=/tmp/ix -> Settings(index_dir=Path('/tmp/ix'), ...)
        """
        env = os.environ if env is None else env
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = env.get(f"CITEBOT_{f.name.upper()}")
            if raw is not None and raw != "":
                values[f.name] = _parse(f.name, raw, type(getattr(cls(), f.name)))
                _check_choice(f"CITEBOT_{f.name.upper()}", values[f.name], CHOICES.get(f.name))
        values.update({k: v for k, v in overrides.items() if v is not None})
        return replace(cls(), **values)


def _parse(name: str, raw: str, kind: type[Any]) -> Any:
    """Parse one environment value into the field's type."""
    if kind is bool:
        return raw.strip().lower() in {"1", "true", "yes", "on"}
    try:
        return Path(raw) if issubclass(kind, Path) else kind(raw)
    except ValueError as exc:
        raise CitebotError(f"CITEBOT_{name.upper()}={raw!r} is not a valid {kind.__name__}") from exc


def _check_choice(name: str, value: Any, allowed: tuple[str, ...] | None) -> None:
    """Refuse a value outside a setting's fixed choices, naming the variable and the allowed values.

    Example: ("CITEBOT_VECTOR_STORE", "milvs", ("faiss", "milvus"))
        -> CitebotError("CITEBOT_VECTOR_STORE='milvs' is not one of: faiss, milvus")
    """
    if allowed is not None and value not in allowed:
        raise CitebotError(f"{name}={value!r} is not one of: {', '.join(allowed)}")
