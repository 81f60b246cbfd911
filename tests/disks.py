"""Real disk faults for tests: a small tmpfs (full or read-only), filled to a chosen free space; no monkeypatching."""

from __future__ import annotations

import os
import random
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

WORDS = "owl cat dog river mountain bread yeast planet storm ocean forest city engine wheel copper iron glass".split()


@contextmanager
def tmpfs(folder: Path, *, size: str = "2m") -> Iterator[Path]:
    """A tmpfs of `size` mounted at `folder` for the block; skips the test where mounting is not permitted."""
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("a real full or read-only disk needs a tmpfs mount: run as root (or in a container that allows it)")
    folder.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(["mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(folder)],
                         capture_output=True, text=True, check=False)  # fmt: skip
    if run.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({run.stderr.strip() or run.returncode}): needs CAP_SYS_ADMIN")
    try:
        yield folder
    finally:
        subprocess.run(["umount", "-l", str(folder)], check=False)


def remount(folder: Path, options: str) -> None:
    """Remount the tmpfs at `folder` with `options` ("ro", "rw", "size=4m")."""
    subprocess.run(["mount", "-o", f"remount,{options}", str(folder)], check=True)


def fill(folder: Path, *, leave: int) -> Path:
    """Take the disk's free space down to about `leave` bytes with a filler file (in 4 kB pages); return it."""
    filler = folder / "filler"
    free = shutil.disk_usage(folder).free
    assert free > leave, f"only {free} bytes free on {folder}, wanted to leave {leave}"
    fd = os.open(filler, os.O_CREAT | os.O_WRONLY)
    try:
        os.posix_fallocate(fd, 0, free - leave)
    finally:
        os.close(fd)
    return filler


def write_big_docs(folder: Path, *, files: int, sentences: int = 40, seed: int = 0) -> Path:
    """`files` text files of `sentences` short made-up sentences each (deterministic)."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(files):
        text = " ".join(" ".join(rng.choice(WORDS) for _ in range(12)).capitalize() + "." for _ in range(sentences))
        (folder / f"big{seed}-{i}.txt").write_text(text, encoding="utf-8")
    return folder


def disk_bytes(folder: Path) -> int:
    """Bytes the files under `folder` take on disk."""
    return sum(p.stat().st_blocks * 512 for p in folder.rglob("*") if p.is_file())


def leftovers(index_dir: Path) -> list[str]:
    """Temporary files and folders under a folder (`.tmp-…`, `.CURRENT.tmp`, an upload's `.part`, a replaced
    file's `.previous`): none once a write
    has ended."""
    return sorted(str(p.relative_to(index_dir)) for p in index_dir.rglob("*") if p.name.startswith(".tmp-")
                  or p.name.endswith((".tmp", ".part", ".previous")))  # fmt: skip
