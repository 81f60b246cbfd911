"""llama-index's SentenceSplitter, imported without the rest of llama_index.core (a third of its import time).

`from llama_index.core.node_parser import SentenceSplitter` runs the `__init__` of llama_index.core and of its
node_parser packages, which import its indices, chat engines, memory and SQLAlchemy; the splitter needs none of them.
So, unless llama_index.core is already imported, the splitter's modules are imported under empty stand-ins for those
packages, which are then taken out of sys.modules again: the next import of llama_index.core (or of any module of it
not yet imported) imports the packages for real, their `__init__` run on modules that already hold the submodules
imported so far, so everything imports as it always does, with the same modules and classes. The splitter gets a
callback manager holding a handler that does nothing (an empty one reads the global `Settings`, which imports the
indices); it splits exactly as one built with the defaults (tests/index/documents/test_splitter.py compares them).
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
import threading
from collections.abc import Sequence
from types import ModuleType
from typing import Any

DEFERRED = ("llama_index.core", "llama_index.core.callbacks", "llama_index.core.node_parser",
            "llama_index.core.node_parser.text")  # fmt: skip
# What the splitter's modules import from a package standing in, and its submodule: callbacks' `__init__` imports its
# token counter, which imports llama-index's LLM types (0.25 s of the 0.6 s the splitter took)
NLTK = ("nltk", "nltk.tokenize")  # stand in while the sentence tokenizer is imported: nltk's __init__ imports scipy
EXPORTS = {"llama_index.core.callbacks": (("base", "CallbackManager"), ("schema", "CBEventType"),
                                          ("schema", "EventPayload"))}  # fmt: skip
GLOBALS = ("global_handler", "global_tokenizer")  # llama_index.core's own globals, which the splitter reads and sets
_lock = threading.RLock()
_splitters: dict[tuple[int, int], Any] = {}
_shared: dict[str, Any] = {}  # every splitter's callback manager and tokenizer
_stand_ins: dict[str, ModuleType] = {}  # taken out of sys.modules; their submodules go into the real packages


def sentence_splitter(chunk_size: int, chunk_overlap: int) -> Any:
    """A SentenceSplitter (`chunk_size`/`chunk_overlap` in tokens), shared by every caller asking for the same sizes."""
    with _lock:
        key = (chunk_size, chunk_overlap)
        if key not in _splitters:
            if DEFERRED[0] in sys.modules or _Complete in sys.meta_path:  # imported before, whole or narrowly
                _splitters[key] = _build(chunk_size, chunk_overlap)
            else:
                _splitters[key] = _narrow(chunk_size, chunk_overlap) or _whole(chunk_size, chunk_overlap)
        return _splitters[key]


def _whole(chunk_size: int, chunk_overlap: int) -> Any:
    """The splitter with llama_index.core imported whole, as usual."""
    importlib.import_module(DEFERRED[1])
    return _build(chunk_size, chunk_overlap)


def _narrow(chunk_size: int, chunk_overlap: int) -> Any | None:
    """The splitter imported under stand-in packages (None if that fails in any way: this llama-index's splitter needs
    more of it)."""
    stand_ins = _stand_in(DEFERRED)
    try:
        splitter = _build(chunk_size, chunk_overlap)
        splitter.split_text("Load the tokenizers now.\n\n\nWhile the imports are narrow.")
        if "nltk" not in sys.modules:
            stand_ins.update(_stand_in(NLTK))
            _sentence_tokenizer()
        return splitter
    except Exception:  # a llama-index whose splitter needs more of it: import it whole instead
        return None
    finally:
        for name, module in stand_ins.items():
            if sys.modules.get(name) is module:
                del sys.modules[name]
                _stand_ins[name] = module
        if _Complete not in sys.meta_path:
            sys.meta_path.insert(0, _Complete)


def _sentence_tokenizer() -> None:
    """Give llama-index the sentence tokenizer it would make (`PunktSentenceTokenizer()`, no data), imported alone: its
    own getter imports the whole of nltk first, which imports scipy.stats (2 s of the first file longer than a chunk).
    If that fails, llama-index makes it as usual when a file first needs it."""
    from llama_index.core.utils import globals_helper

    try:
        from nltk.tokenize.punkt import PunktSentenceTokenizer
    except Exception:  # an nltk whose punkt needs more of it
        return
    if globals_helper._punkt_tokenizer is None:
        globals_helper._punkt_tokenizer = PunktSentenceTokenizer()


def _build(chunk_size: int, chunk_overlap: int) -> Any:
    """The splitter. Every one shares the first one's callback manager and tokenizer (the defaults, but getting them
    again reads llama_index.core, which after a narrow import imports it whole)."""
    from llama_index.core.callbacks.base import CallbackManager
    from llama_index.core.node_parser.text.sentence import SentenceSplitter
    from llama_index.core.utils import get_tokenizer

    if not _shared:
        _shared.update(manager=CallbackManager([_quiet_handler()]), tokenizer=get_tokenizer())
    return SentenceSplitter(chunk_size=chunk_size, chunk_overlap=chunk_overlap, callback_manager=_shared["manager"],
                            tokenizer=_shared["tokenizer"])  # fmt: skip


def _stand_in(names: Sequence[str]) -> dict[str, ModuleType]:
    """Put empty modules for the packages `names` in sys.modules, each bound on its parent, their `__init__` not run."""
    import llama_index  # noqa: F401  (a namespace package: nothing to run)

    made = {}
    for name in names:
        spec = importlib.util.find_spec(name)
        assert spec is not None, name
        module = made[name] = importlib.util.module_from_spec(spec)
        module.__dict__.update(dict.fromkeys(GLOBALS) if name == DEFERRED[0] else {})
        sys.modules[name] = module
        parent, _, child = name.rpartition(".")
        if parent:
            setattr(sys.modules[parent], child, module)
        for submodule, attr in EXPORTS.get(name, ()):
            setattr(module, attr, getattr(importlib.import_module(f"{name}.{submodule}"), attr))
    return made


class _Complete:
    """A sys.meta_path finder: a package that stood in imports for real, starting from what its stand-in holds."""

    @staticmethod
    def find_spec(name: str, path: Any = None, target: Any = None) -> importlib.machinery.ModuleSpec | None:
        with _lock:
            stand_in = _stand_ins.pop(name, None)
        if stand_in is None:
            return None
        spec = importlib.machinery.PathFinder.find_spec(name, path, target)
        if spec is not None and spec.loader is not None:
            spec.loader = _Carrying(spec.loader, stand_in)
        return spec


class _Carrying(importlib.abc.Loader):
    """A package's loader that first gives the new module its stand-in's submodules and globals."""

    def __init__(self, loader: Any, stand_in: ModuleType) -> None:
        self.loader, self.stand_in = loader, stand_in

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return None

    def exec_module(self, module: ModuleType) -> None:
        name, held = self.stand_in.__name__, self.stand_in.__dict__
        module.__dict__.update((k, v) for k, v in held.items() if sys.modules.get(f"{name}.{k}") is v)
        module.__loader__ = self.loader
        if module.__spec__ is not None:
            module.__spec__.loader = self.loader
        self.loader.exec_module(module)
        module.__dict__.update((k, held[k]) for k in GLOBALS if held.get(k) is not None)  # a tokenizer set stays


def _quiet_handler() -> Any:
    """A llama-index callback handler that records nothing."""
    from llama_index.core.callbacks.base_handler import BaseCallbackHandler

    class Quiet(BaseCallbackHandler):
        def __init__(self) -> None:
            super().__init__([], [])

        def on_event_start(self, event_type: Any, payload: Any = None, event_id: str = "", parent_id: str = "",
                           **kwargs: Any) -> str:  # fmt: skip
            return event_id

        def on_event_end(self, event_type: Any, payload: Any = None, event_id: str = "", **kwargs: Any) -> None:
            return None

        def start_trace(self, trace_id: str | None = None) -> None:
            return None

        def end_trace(self, trace_id: str | None = None, trace_map: Any = None) -> None:
            return None

    return Quiet()
