"""The Documents tab: every indexed file with type, size, chunks and indexed-at; remove (confirmed) or replace."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from bot.errors import CannotWrite, CitebotError
from index.documents.loader import SUFFIXES
from ui.docs_cli import human_size

if TYPE_CHECKING:
    from bot.library import Library

HEADERS = ["name", "type", "size", "chunks", "indexed at"]
CONFIRM = "(name) => [name && confirm('Remove ' + name + ' from the documents folder and the index?') ? name : null]"


def document_rows(library: Library) -> list[list[Any]]:
    """The table's rows, one per indexed file."""
    return [[d.name, d.type, human_size(d.size), d.chunks, d.indexed_at] for d in library.documents()]


def documents_tab(library: Library, *, refresh_every: float | None = None) -> None:
    """Add the tab to the Blocks being built; with `refresh_every` (seconds) it re-reads the list while open."""
    import gradio as gr

    with gr.Tab("Documents", elem_id="documents-tab") as tab:
        table = gr.Dataframe(document_rows(library), headers=HEADERS, interactive=False, elem_id="doc-table")
        with gr.Row():
            pick = gr.Dropdown(_names(library), label="Document", elem_id="doc-pick", scale=3)
            remove = gr.Button("Remove", variant="stop", elem_id="doc-remove", scale=1)
        files = gr.File(
            label="Add or replace documents (a file of the same name replaces it)",
            file_count="multiple",
            file_types=list(SUFFIXES),
            elem_id="doc-upload",
        )
        status = gr.Textbox(show_label=False, interactive=False, elem_id="doc-status")
    outputs = [table, pick, status]
    remove.click(_remove(library), [pick], outputs, js=CONFIRM, api_visibility="private")
    files.upload(_add(library), [files], outputs, api_visibility="private")
    tab.select(lambda: _refreshed(library, ""), None, outputs, api_visibility="private")
    if refresh_every:
        gr.Timer(refresh_every).tick(lambda: _refreshed(library, gr.skip()), None, outputs, api_visibility="private")


def _names(library: Library) -> list[str]:
    return [d.name for d in library.documents()]


def _refreshed(library: Library, status: Any) -> tuple[list[list[Any]], Any, Any]:
    import gradio as gr

    return document_rows(library), gr.Dropdown(choices=_names(library), value=None), status


def _remove(library: Library) -> Any:
    def remove(name: str | None) -> tuple[list[list[Any]], Any, str]:
        if not name:
            return _refreshed(library, "Nothing removed.")
        try:
            library.remove(name)
        except CitebotError as exc:
            return _refreshed(library, f"Not removed: {exc}")
        return _refreshed(library, f"Removed {name}: it is no longer in the folder or the index.")

    return remove


def _add(library: Library) -> Any:
    def add(paths: list[str] | None) -> tuple[list[list[Any]], Any, str]:
        if not paths:
            return _refreshed(library, "")
        try:
            report = library.add([(Path(p), Path(p).name) for p in paths])
        except CitebotError as exc:  # e.g. another citebot is indexing: the file is kept, indexed by the next run
            return _refreshed(library, f"{not_done(exc)}: {exc}")
        lines = [f"Added {s}." for s in report.saved] + [f"Replaced {s}." for s in report.replaced]
        return _refreshed(library, "\n\n".join(lines + [f"Rejected: {r}" for r in report.rejected]))

    return add


def not_done(exc: CitebotError) -> str:
    """How an upload that failed ended: a full or read-only disk keeps nothing; another writer leaves it for later."""
    return "Not added" if isinstance(exc, CannotWrite) else "Not indexed yet"
