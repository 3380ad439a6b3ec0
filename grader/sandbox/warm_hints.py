"""Preloads the judge asks for after the warm parent has started (`ask`).

The forkserver's preloads are fixed when it is spawned, before the judge has read the
submission; a hint lets the judge add one later. The forkserver gets the path of a hints file
(in multiprocessing's private temp folder, removed with it) and takes it once, after its other
preloads and before it freezes them (`forkserver_hints`): it renames the file to `TAKEN` (an
empty one when nothing was asked yet) and imports each line that names a module from
`ALLOWED`. A hint written after that changes nothing for that warm parent (workers import what
they need themselves, as without it), so asking is never wrong, only sometimes late.

A process that grades again and again (`grade --watch`, the kernel's warm check) keeps what was
asked: every warm parent it starts later preloads all of it, and `late()` tells it, between
grades, that the running one took less, so it can start one that has it (`watch.spare_worker`).
"""
from __future__ import annotations

import os
from contextlib import contextmanager
from typing import Iterator

from grader.sandbox.warm import NOTEBOOK_PRELOAD

ENV = "GRADER_WARM_HINTS"
TAKEN = ".taken"  # suffix: what the running forkserver took
# what torch imports lazily at some calls (`grader.intake.preloads`): torch._dynamo at the first
# torch.optim optimizer or torch.compile, 0.7 s in the warm parent (garbage collection off),
# 1.1 s in each worker that does it; symbolic_shapes at the first explicit gradient
# and IPython's, for a notebook whose warm parent was started before its file was read
# and, for a batch of many submissions, huge pages (taken after every other hint: it collapses what they made)
HUGE_PAGES = "grader.sandbox.forkserver_hugepages"
ALLOWED = ("torch._dynamo", "torch.fx.experimental.symbolic_shapes", *NOTEBOOK_PRELOAD, HUGE_PAGES)
_PATH: str | None = None
_ASKED: list[str] = []  # asked in this process, for every warm parent it starts


@contextmanager
def offered(spawning: bool = True) -> Iterator[None]:
    """Around the forkserver's spawn (`spawning`; else a call that finds it running): it inherits
    the path of the hints file, which holds what this process asked for before."""
    global _PATH
    from multiprocessing import util

    _PATH = os.path.join(util.get_temp_dir(), "grader-warm-hints")
    if spawning:  # what an earlier warm parent of this process took is not this one's
        try:
            os.unlink(_PATH + TAKEN)
        except OSError:
            pass
    _write()
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
    if module not in ALLOWED or module in _ASKED:
        return
    _ASKED.append(module)
    _write()


def late() -> bool:
    """Whether the running warm parent took its hints without something asked for since."""
    if _PATH is None or not _ASKED:
        return False
    taken = read(_PATH + TAKEN)
    if taken is None:  # not taken yet: it will read what was asked
        return False
    return any(module not in taken for module in _ASKED)


def read(path: str) -> list[str] | None:
    """The modules of ALLOWED that a hints file names; None when it cannot be read."""
    try:
        with open(path, encoding="ascii") as handle:
            return [name for name in handle.read(4096).split() if name in ALLOWED]
    except (OSError, ValueError):
        return None


def _write() -> None:
    if _PATH is None or not _ASKED:
        return
    partial = _PATH + ".partial"
    try:
        with open(partial, "w", encoding="ascii") as handle:
            handle.write("".join(f"{name}\n" for name in _ASKED))
        os.replace(partial, _PATH)  # the forkserver reads all of it or none
    except OSError:
        pass
