from pathlib import Path

import pytest

from index.documents.uploads import UploadRejected, safe_name, save_upload


@pytest.mark.parametrize(
    "name,safe",
    [
        ("notes.txt", "notes.txt"),
        ("../../etc/pass wd.txt", "pass_wd.txt"),
        ("..\\..\\win.ini.txt", "win.ini.txt"),
        (".hidden.md", "hidden.md"),
        ("..", "upload"),
        ("", "upload"),
        ("résumé 2024.pdf", "résumé_2024.pdf"),
        ("a<script>.html", "a_script_.html"),
    ],
)
def test_safe_name(name: str, safe: str) -> None:
    assert safe_name(name) == safe


def _file(tmp_path: Path, name: str, data: bytes) -> Path:
    path = tmp_path / "incoming" / name
    path.parent.mkdir(exist_ok=True)
    path.write_bytes(data)
    return path


def test_saves_under_uploads_without_overwriting(tmp_path: Path) -> None:
    docs = tmp_path / "docs"
    src = _file(tmp_path, "x", b"Owls hunt at night.")
    first = save_upload(src, "../owls.txt", docs, max_bytes=1000)
    second = save_upload(src, "owls.txt", docs, max_bytes=1000)
    assert first == docs / "uploads" / "owls.txt" and second == docs / "uploads" / "owls-2.txt"
    assert first.read_bytes() == b"Owls hunt at night." and not list((docs / "uploads").glob(".*"))


@pytest.mark.parametrize(
    "name,data,reason",
    [
        ("run.exe", b"MZ...", "unsupported type .exe"),
        ("noext", b"text", "unsupported type \\(none\\)"),
        ("big.txt", b"x" * 2000, "over the"),
        ("bin.txt", b"\x00\x01" * 10, "binary"),
        ("bad.pdf", b"%PDF-1.4 nonsense", "cannot be read"),
        ("empty.md", b"   ", "no text"),
    ],
)
def test_rejections_say_why_and_store_nothing(tmp_path: Path, name: str, data: bytes, reason: str) -> None:
    docs = tmp_path / "docs"
    with pytest.raises(UploadRejected, match=reason):
        save_upload(_file(tmp_path, "tmp", data), name, docs, max_bytes=1000)
    assert not (docs / "uploads").exists() or not list((docs / "uploads").iterdir())
