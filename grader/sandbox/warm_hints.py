"""Preloads the judge asks for after the warm parent has started (`ask`).

The forkserver's preloads are fixed when it is spawned, before the judge has read the
submission; a hint lets the judge add one later. The forkserver gets the path of a hints file
(in multiprocessing's private temp folder, removed with it) and reads it once, after its other
preloads and before it freezes them (`forkserver_hints`): each line names a module from
`ALLOWED`. A hint written after that changes nothing (workers import what they need
themselves, as without it), so asking is never wrong, only sometimes late.
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

ENV = "GRADER_WARM_HINTS"
# what torch imports lazily at some calls (`grader.intake.preloads`): torch._dynamo at the first
# torch.optim optimizer or torch.compile, 0.7 s in the warm parent (garbage collection off),
# 1.1 s in each worker that does it; symbolic_shapes at the first explicit gradient
ALLOWED = ("torch._dynamo", "torch.fx.experimental.symbolic_shapes")
_PATH: str | None = None
_ASKED: list[str] = []


@contextmanager
def offered() -> Iterator[None]:
    """Around the forkserver's spawn: it inherits the path of a fresh hints file."""
    global _PATH
    from multiprocessing import util

    _PATH, _ASKED[:] = os.path.join(util.get_temp_dir(), "grader-warm-hints"), []
    saved = os.environ.get(ENV)
    os.environ[ENV] = _PATH
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(ENV, None)
        else:
            os.environ[ENV] = saved


def ask(module: str) -> None:
    """Ask the warm parent that is starting to preload `module` too (one of ALLOWED)."""
    if _PATH is None or module not in ALLOWED or module in _ASKED:
        return
    _ASKED.append(module)
    partial = _PATH + ".partial"
    try:
        with open(partial, "w", encoding="ascii") as handle:
            handle.write("".join(f"{name}\n" for name in _ASKED))
        os.replace(partial, _PATH)  # the forkserver reads all of it or none
    except OSError:
        pass
