"""The SQuAD part of benchmarks/quality.py (kept for old commands): `python benchmarks/quality.py --sets squad`."""

from __future__ import annotations

import sys

from quality import main

if __name__ == "__main__":
    sys.exit(main(["--sets", "squad", *sys.argv[1:]]))
