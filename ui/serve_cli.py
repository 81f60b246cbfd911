"""`citebot serve`: the browser chat on loopback (or, with a password, on the network)."""

from __future__ import annotations

import argparse
import os
import threading
from collections.abc import Callable
from typing import Any

from bot.config import Settings
from bot.errors import CitebotError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def register(sub: Any, common: argparse.ArgumentParser, command: Any) -> None:
    """Add the `serve` command to the CLI."""
    p = command(
        sub,
        "serve",
        cmd_serve,
        common,
        "Chat in the browser (Gradio), with sources and uploads.",
        "citebot serve --port 7860   (then open http://127.0.0.1:7860)",
    )
    p.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1, this machine only)")
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument("--auth", help="user:password, required off loopback (or set CITEBOT_AUTH)")
    p.add_argument("--watch", action="store_true", help="re-index documents added, changed or deleted while serving")


def parse_auth(host: str, auth: str) -> tuple[str, str] | None:
    """Check the bind address against the credentials; return (user, password) or None on loopback without auth.

    Example: parse_auth("0.0.0.0", "") raises; parse_auth("127.0.0.1", "") -> None; ("h", "ann:pw") -> ("ann", "pw")
    """
    if auth:
        user, sep, password = auth.partition(":")
        if not (sep and user and password):
            raise CitebotError("--auth must look like user:password")
        return user, password
    if host not in LOOPBACK:
        raise CitebotError(
            f"Serving on {host} would expose your documents to the network: "
            "pass --auth user:password (or set CITEBOT_AUTH), or keep the default --host 127.0.0.1"
        )
    return None


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answerer import Bot
    from bot.library import Library
    from index.pipeline import index_config
    from index.store import check_index

    credentials = parse_auth(args.host, args.auth or settings.auth)
    check_index(settings.index_dir, remote=index_config(settings))  # no index: say what to run now, not on a question
    bot = PendingBot(lambda: Bot.load(settings=settings))  # the page is served while the index and model load
    library = Library(settings, bot=bot)  # type: ignore[arg-type]  # a PendingBot stands in for the Bot
    app = launch(bot, host=args.host, port=args.port, auth=credentials, block=False, settings=settings,
                 library=library, watch=args.watch)  # fmt: skip
    stop = start_watching(library) if args.watch else threading.Event()
    print(f"citebot is serving {settings.index_dir} at http://{args.host}:{args.port}  (Ctrl-C to stop)", flush=True)
    try:
        app.block_thread()
    finally:
        stop.set()
        app.close()
    return 0


class PendingBot:
    """A Bot loading in a background thread: attribute access waits for it, or raises what the load raised."""

    def __init__(self, load: Callable[[], Any]) -> None:
        self._loaded = threading.Event()
        self._bot: Any = None
        self._error: BaseException | None = None
        threading.Thread(target=self._load, args=(load,), name="citebot-load").start()  # not a daemon: see LazyEmbedder

    def _load(self, load: Callable[[], Any]) -> None:
        try:
            self._bot = load()
        except BaseException as exc:  # noqa: BLE001 - handed to whoever asks first
            self._error = exc
        finally:
            self._loaded.set()

    def __getattr__(self, name: str) -> Any:
        self._loaded.wait()
        if self._error is not None:
            raise CitebotError(f"The index could not be loaded: {self._error}") from self._error
        return getattr(self._bot, name)


def launch(
    bot: Any,
    *,
    host: str,
    port: int,
    auth: tuple[str, str] | None = None,
    block: bool = True,
    settings: Settings,
    library: Any = None,
    watch: bool = False,
) -> Any:
    """Build and start the app and the HTTP API: no share link, no analytics, uploads capped, no outside files."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bot.library import Library
    from ui.api import api_router
    from ui.app import build_app
    from ui.viewer import HEAD as VIEWER_HEAD

    library = library or Library(settings, bot=bot)
    app = build_app(bot, library, watch=watch)  # watch: the page re-reads the documents list
    router = api_router(bot, library, credentials=auth, max_upload_mb=settings.max_upload_mb)
    app.queue(default_concurrency_limit=4)
    app.launch(
        server_name=host,
        server_port=port,
        share=False,
        auth=auth,
        max_file_size=f"{settings.max_upload_mb}mb",
        inbrowser=False,
        prevent_thread_lock=not block,
        quiet=True,
        show_error=True,
        ssr_mode=False,
        footer_links=[],
        app_kwargs={"routes": router.routes},  # the API's routes, ahead of Gradio's
        head=VIEWER_HEAD,
    )
    return app


def start_watching(library: Any) -> threading.Event:
    """Watch the documents folders in a daemon thread; set the returned event to stop."""
    from bot.library import watch

    stop = threading.Event()

    def report(r: Any) -> None:
        print(
            f"citebot: re-indexed: {len(r.added)} added, {len(r.changed)} changed, {len(r.removed)} removed", flush=True
        )

    threading.Thread(target=watch, args=(library, stop), kwargs={"on_sync": report}, daemon=True).start()
    return stop
