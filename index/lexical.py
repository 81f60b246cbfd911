"""Moved to index/search/lexical.py. This name stays only for the modules of the reader issue (bot/engine.py,
bot/extractive.py, bot/answer_types.py, bot/conversation.py), which are being edited meanwhile; delete it once they
import from there.
"""

from index.search.lexical import Vocabulary, is_english, stems, term_set, terms

__all__ = ["Vocabulary", "is_english", "stems", "term_set", "terms"]
