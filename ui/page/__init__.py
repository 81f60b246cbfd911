"""The browser chat page (Gradio), over a Bot: docs/chat.md.

app                  build_app: the chat, sources, examples, uploads, the Save as test section, the /ask endpoint
conversations_panel  the saved conversations beside the chat: search, open, rename, delete; ?c=ID in the address
documents_tab        the Documents tab: list, remove with confirmation, add or replace
"""
