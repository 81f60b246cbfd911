"""Saved conversations (CITEBOT_CONVERSATIONS): docs/chat.md#conversations.

store   each user's conversations and turns (whole Answers) in SQLite: FTS5 search, one transaction a turn
export  a stored conversation as Markdown (quotes, sources, viewer links) or JSON
"""
