import os
from pathlib import Path

import pytest

from index.documents.loader import load_documents


def test_loads_supported_files_recursively_with_relative_sources(docs_dir: Path) -> None:
    (docs_dir / "notes.csv").write_text("a,b", encoding="utf-8")
    docs, skipped = load_documents([docs_dir])
    assert sorted(d.source for d in docs) == ["animals.txt", "cooking.txt", "space/planets.md"]
    assert skipped == []
    animals = next(d for d in docs if d.source == "animals.txt")
    assert animals.text == (docs_dir / "animals.txt").read_text(encoding="utf-8")
    assert len(animals.sha256) == 64


def test_bad_files_are_skipped_with_a_reason(tmp_path: Path) -> None:
    (tmp_path / "good.txt").write_text("Good text.", encoding="utf-8")
    (tmp_path / "binary.txt").write_bytes(b"\x00\x01\x02\xff" * 100)
    (tmp_path / "empty.md").write_text("", encoding="utf-8")
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    (tmp_path / "broken.docx").write_bytes(b"not a zip")
    docs, skipped = load_documents([tmp_path])
    assert [d.source for d in docs] == ["good.txt"]
    reasons = {s.source: s.reason for s in skipped}
    assert set(reasons) == {"binary.txt", "empty.md", "broken.pdf", "broken.docx"}
    assert "binary" in reasons["binary.txt"]


def test_non_utf8_text_is_decoded(tmp_path: Path) -> None:
    (tmp_path / "latin.txt").write_bytes("Café au lait coûte 2 €.".encode("cp1252"))
    (tmp_path / "utf16.txt").write_bytes("Grüße aus Köln.".encode("utf-16"))
    docs, _ = load_documents([tmp_path])
    texts = {d.source: d.text for d in docs}
    assert texts["latin.txt"] == "Café au lait coûte 2 €."
    assert texts["utf16.txt"] == "Grüße aus Köln."


@pytest.mark.skipif(os.geteuid() == 0, reason="root reads files whatever their permissions")
def test_unreadable_file_is_skipped(tmp_path: Path) -> None:
    (tmp_path / "ok.txt").write_text("Fine.", encoding="utf-8")
    locked = tmp_path / "locked.txt"
    locked.write_text("Secret.", encoding="utf-8")
    locked.chmod(0)
    docs, skipped = load_documents([tmp_path])
    assert [d.source for d in docs] == ["ok.txt"] and skipped[0].source == "locked.txt"


def test_symlink_loop_does_not_hang(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "a" / "doc.txt").write_text("Text.", encoding="utf-8")
    (tmp_path / "a" / "loop").symlink_to(tmp_path / "a", target_is_directory=True)
    docs, _ = load_documents([tmp_path])
    assert [d.source for d in docs] == ["a/doc.txt"]


def test_html_docx_and_pdf_are_read(tmp_path: Path) -> None:
    import docx

    (tmp_path / "page.html").write_text(
        "<html><head><script>alert(1)</script></head><body><p>Visible words.</p></body></html>", encoding="utf-8"
    )
    document = docx.Document()
    document.add_paragraph("Words inside a Word file.")
    document.save(str(tmp_path / "file.docx"))
    (tmp_path / "one.pdf").write_bytes(_tiny_pdf("Hello from a PDF"))
    docs = {d.source: d.text for d in load_documents([tmp_path])[0]}
    assert docs["page.html"] == "Visible words."
    assert "Words inside a Word file." in docs["file.docx"]
    assert "Hello from a PDF" in docs["one.pdf"]


def _tiny_pdf(text: str) -> bytes:
    """A minimal one-page PDF with a line of text (no PDF writer needed)."""
    stream = f"BT /F1 12 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for i, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % i + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % o for o in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def test_permission_error_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "ok.txt").write_text("Fine.", encoding="utf-8")
    (tmp_path / "locked.txt").write_text("Secret.", encoding="utf-8")
    real = Path.read_bytes

    def read_bytes(self: Path) -> bytes:
        if self.name == "locked.txt":
            raise PermissionError(13, "Permission denied", str(self))
        return real(self)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    docs, skipped = load_documents([tmp_path])
    assert [d.source for d in docs] == ["ok.txt"]
    assert skipped[0].source == "locked.txt" and "Permission denied" in skipped[0].reason
