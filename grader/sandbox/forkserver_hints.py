"""Imported only by the warm forkserver, just before its last preload: the modules the judge
asked for since the forkserver started (`warm_hints`), those in its ALLOWED list only."""
from __future__ import annotations

import importlib
import os

from grader.sandbox.forkserver_init import in_forkserver
from grader.sandbox.warm_hints import ALLOWED, ENV


def _asked(path: str) -> list[str]:
    try:
        with open(path, encoding="ascii") as handle:
            return [name for name in handle.read(4096).split() if name in ALLOWED]
    except (OSError, ValueError):
        return []


def _load() -> None:
    path = os.environ.pop(ENV, None)
    for name in _asked(path) if path else []:
        try:
            importlib.import_module(name)
        except Exception:  # noqa: BLE001 - a preload that fails leaves the worker to import it
            pass


if in_forkserver():
    _load()
