"""Moved to index/documents/chunking.py. This name stays only for the modules of the reader issue (bot/engine.py,
bot/extractive.py, benchmarks/reader_data.py), which are being edited meanwhile; delete it once they import from there.
"""

from index.documents.chunking import Span, split_sentences

__all__ = ["Span", "split_sentences"]
