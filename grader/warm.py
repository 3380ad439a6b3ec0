"""Start the warm parent (a preloaded forkserver) as early as possible.

Kept free of numpy and of the rest of the grader, so that `grade` can start the forkserver's
torch import before it imports anything else.
"""
from __future__ import annotations

import multiprocessing as mp
import sys
import threading
import types
from contextlib import contextmanager
from typing import Any, Iterator

PRELOAD = ["grader.worker", "grader.refworker", "grader.forkserver_init"]
NOTEBOOK_PRELOAD = ["IPython.core.interactiveshell"]
_CONTEXT: Any = None


def context(notebooks: bool = True) -> Any:
    """The multiprocessing context for workers: a preloaded forkserver where possible.

    `notebooks` also preloads IPython (0.6 s more for the warm parent, none per notebook);
    it only matters for the call that starts the forkserver.
    """
    global _CONTEXT
    if _CONTEXT is None:
        if "forkserver" in mp.get_all_start_methods():
            _CONTEXT = mp.get_context("forkserver")
            _CONTEXT.set_forkserver_preload(PRELOAD + (NOTEBOOK_PRELOAD if notebooks else []))
        else:  # Windows (and any platform without fork): a fresh interpreter per worker
            _CONTEXT = mp.get_context("spawn")
    return _CONTEXT


_MAIN_LOCK = threading.Lock()


@contextmanager
def bare_main() -> Iterator[None]:
    """Hide the judge's `__main__` while starting processes.

    multiprocessing would otherwise re-run the judge's main script (or pytest's) in each
    worker before the target: slow, and not code a worker should run.
    """
    with _MAIN_LOCK:
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if saved is not None:
                sys.modules["__main__"] = saved


def warm_up(notebooks: bool = True) -> None:
    """Start the forkserver now, so its imports overlap with the judge's own work."""
    ctx = context(notebooks)
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        with bare_main():
            forkserver.ensure_running()
