"""`citebot serve`: the browser chat on loopback (or, with a password, on the network)."""

from __future__ import annotations

import argparse
import os
import sys
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.config import Settings
from bot.errors import CitebotError

LOOPBACK = {"127.0.0.1", "localhost", "::1"}
Users = list[tuple[str, str]]


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
    p.add_argument(
        "--auth",
        action="append",
        help="user:password, required off loopback; once per user (each has their own conversations), or @FILE of "
        "user:password lines (or set CITEBOT_AUTH: pairs separated by commas)",
    )
    p.add_argument("--watch", action="store_true", help="re-index documents added, changed or deleted while serving")


def parse_auth(host: str, auth: str | Sequence[str]) -> Users | None:
    """Check the bind address against the users; return [(user, password), ...] or None on loopback without auth.

    `auth` is CITEBOT_AUTH (pairs separated by commas) or the --auth values (one pair each); "@FILE" anywhere reads
    a file of user:password lines (passwords with commas).
    Example: parse_auth("0.0.0.0", "") raises; ("127.0.0.1", "") -> None; ("h", "ann:pw,bob:x") -> [("ann", "pw"),
    ("bob", "x")]; ("h", ["ann:a,b"]) -> [("ann", "a,b")]
    """
    users = [_user(pair) for pair in auth_pairs(auth)]
    names = [user for user, _ in users]
    if len(set(names)) < len(names):
        raise CitebotError(f"--auth names a user twice ({', '.join(names)}): give each user once")
    if users:
        return users
    if host not in LOOPBACK:
        raise CitebotError(
            f"Serving on {host} would expose your documents to the network: "
            "pass --auth user:password (or set CITEBOT_AUTH), or keep the default --host 127.0.0.1"
        )
    return None


def auth_pairs(auth: str | Sequence[str]) -> list[str]:
    """The user:password pairs of CITEBOT_AUTH (split at commas) or of --auth values, "@FILE" read line by line."""
    pairs = []
    for value in auth.split(",") if isinstance(auth, str) else auth:
        if value.strip().startswith("@"):
            pairs += _read_users(Path(value.strip()[1:]))
        elif value.strip():
            pairs.append(value.strip())
    return pairs


def _read_users(path: Path) -> list[str]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as exc:
        raise CitebotError(
            f"Cannot read the users file {path} ({exc.strerror}): give a file of user:password lines"
        ) from None
    return [line.strip() for line in lines if line.strip() and not line.lstrip().startswith("#")]


def _user(pair: str) -> tuple[str, str]:
    user, sep, password = pair.partition(":")
    if not (sep and user and password):
        raise CitebotError("--auth must look like user:password")
    return user, password


def cmd_serve(args: argparse.Namespace, settings: Settings) -> int:
    from bot.answerer import Bot
    from bot.library import Library
    from index.access import check_index
    from index.pipeline import index_config

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
    auth: tuple[str, str] | Users | None = None,
    block: bool = True,
    settings: Settings,
    library: Any = None,
    watch: bool = False,
) -> Any:
    """Build and start the app and the HTTP API: no share link, no analytics, uploads capped, no outside files."""
    os.environ["GRADIO_ANALYTICS_ENABLED"] = "False"
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    from bot.chats.store import open_for_chat
    from bot.library import Library
    from ui.api.routes import api_router
    from ui.api.viewer_routes import HEAD as VIEWER_HEAD
    from ui.page.app import build_app

    library = library or Library(settings, bot=bot)
    saving = open_for_chat(settings)  # none, saying why, when the store is off or cannot be used
    if saving.store is None:
        print(f"citebot: warning: {saving.notice}", file=sys.stderr, flush=True)
    app = build_app(bot, library, watch=watch, saving=saving)  # watch: the page re-reads the documents list
    router = api_router(bot, library, credentials=auth, max_upload_mb=settings.max_upload_mb, saving=saving)
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
        if not (r.added or r.changed or r.removed):  # the catch-up sync at start, with nothing to catch up
            return
        print(
            f"citebot: re-indexed: {len(r.added)} added, {len(r.changed)} changed, {len(r.removed)} removed", flush=True
        )

    threading.Thread(target=watch, args=(library, stop), kwargs={"on_sync": report}, daemon=True).start()
    return stop
