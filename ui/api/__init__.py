"""The HTTP API served beside the page: docs/api.md.

routes               api_router: /api/ask, /api/documents, auth, the offline /docs; mounts the others
errors               ApiError and the JSON error shape every route answers with
conversation_routes  /api/conversations, and /api/ask inside a conversation
openai_routes        OpenAI-compatible /v1/chat/completions (stream or not) and /v1/models
viewer_routes        the document viewer's files, and a document's text and PDF
"""
