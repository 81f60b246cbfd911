"""llama-index's SentenceSplitter imported narrowly (index/documents/splitter.py): the same chunks, none of
llama_index.core's indices imported for it, and the rest of llama-index importing as usual afterwards. Each check runs
in a fresh interpreter, since the narrow import only happens before llama_index.core is imported."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

from conftest import DOCS, ROOT
from fakes import write_docs


def _run(code: str) -> dict[str, object]:
    done = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT, capture_output=True, text=True,
                          timeout=300, check=True)  # fmt: skip
    return dict(json.loads(done.stdout.strip().splitlines()[-1]))


def test_the_narrow_splitter_chunks_as_llama_index_does_and_llama_index_still_imports_whole() -> None:
    out = _run(
        """
        import json, sys
        from index.documents.chunking import split_text
        from index.documents.splitter import sentence_splitter
        text = open("data/squad2-dev-sample.json", encoding="utf-8").read()[:30000].replace(", ", ",\\n\\n\\n")
        narrow = [(c.start, c.end) for c in split_text("a", text, size=200, overlap=40)]
        other = [(c.start, c.end) for c in split_text("a", text, size=120, overlap=20)]  # more sizes, same modules
        prose = " ".join(f"Sentence {i} says Dr. Who came at {i} p.m. and left." for i in range(200))  # punkt splits it
        sentences = [(c.start, c.end) for c in split_text("b", prose, size=200, overlap=40)]
        indices = "llama_index.core.indices" in sys.modules
        nltk = "nltk.corpus" in sys.modules or "scipy" in sys.modules
        from llama_index.core.settings import Settings  # a module the splitter did not need: a cycle, if done wrong
        from llama_index.core import VectorStoreIndex, Settings as Again
        from llama_index.core.node_parser import SentenceSplitter
        import llama_index.core
        whole = SentenceSplitter(chunk_size=200, chunk_overlap=40).split_text(text)
        same = [text[a:b] for a, b in narrow] == whole
        same &= [text[a:b] for a, b in other] == SentenceSplitter(chunk_size=120, chunk_overlap=20).split_text(text)
        same &= [prose[a:b] for a, b in sentences] == SentenceSplitter(chunk_size=200, chunk_overlap=40).split_text(
            prose)
        print(json.dumps({"indices": indices, "same": same, "n": len(whole), "nltk": nltk,
                          "settings": Settings is Again, "class": type(sentence_splitter(200, 40)) is SentenceSplitter,
                          "tokenizer": llama_index.core.global_tokenizer is not None}))
        """
    )
    assert out["indices"] is False, "the splitter imported llama_index.core's indices"
    assert out["nltk"] is False, "the sentence tokenizer imported the whole of nltk"
    assert out["same"] is True and int(out["n"]) > 20  # type: ignore[call-overload]
    assert out["settings"] and out["class"] and out["tokenizer"]


def test_a_one_file_update_with_the_hash_embedder_imports_no_more_of_llama_index(tmp_path: Path) -> None:
    docs = write_docs(tmp_path / "docs", DOCS)
    out = _run(
        f"""
        import json, sys
        from pathlib import Path
        from bot import Settings
        from index.pipeline import index_paths
        settings = Settings.from_env({{}}, index_dir=Path({str(tmp_path / "ix")!r}), embed_model="hash")
        index_paths([Path({str(docs)!r})], settings)
        Path({str(docs / "new.txt")!r}).write_text("Owls hunt at night with silent feathers.", encoding="utf-8")
        report, _ = index_paths([Path({str(docs)!r})], settings)
        print(json.dumps({{"added": report.added, "core": "llama_index.core" in sys.modules,
                          "indices": "llama_index.core.indices" in sys.modules}}))
        """
    )
    assert out == {"added": ["new.txt"], "core": False, "indices": False}
