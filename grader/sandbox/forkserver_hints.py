"""Imported only by the warm forkserver, just before its last preload: the modules the judge
asked for since the forkserver started (`warm_hints`), those in its ALLOWED list only. The hints
file is taken (renamed to `warm_hints.TAKEN`, or that made empty when nothing was asked), so the
judge can tell a hint that came after (`warm_hints.late`)."""
from __future__ import annotations

import importlib
import os

from grader.sandbox.forkserver_init import in_forkserver
from grader.sandbox.warm_hints import ENV, HUGE_PAGES, TAKEN, read


def _take(path: str) -> list[str]:
    """The hints at `path`, taken: what they were renamed to, read; an empty record if none."""
    taken = path + TAKEN
    try:
        os.rename(path, taken)
    except OSError:
        try:
            os.close(os.open(taken, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        except OSError:
            pass
        return []
    return read(taken) or []


def _load() -> None:
    path = os.environ.pop(ENV, None)
    for name in sorted(_take(path) if path else [], key=lambda n: n == HUGE_PAGES):  # huge pages last
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a preload that fails leaves the worker to import it
            pass


if in_forkserver():
    _load()
