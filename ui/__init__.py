"""The interfaces over a Bot, the roof: nothing imports ui/.

page/        the Gradio chat page: chat, sources, the conversations list, the Documents tab
api/         the HTTP routes beside the page: /api/ask, documents, conversations, the viewer's, OpenAI's /v1
render.py    an Answer as the page and the exports show it (escaped markdown and HTML), the viewer's links
cli.py       the `citebot` command; serve_cli.py, docs_cli.py, eval_cli.py, history_cli.py: its command groups
static/      the document viewer's script and styles, and the vendored pdf.js
"""
