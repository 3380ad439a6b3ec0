"""Imported only by the warm forkserver, last of its preloads: freeze what the preloads made.

`gc.freeze()` moves every object made so far (torch's ~170k among them) out of the garbage
collector's reach, so no collection in the forkserver or in a worker forked from it walks
them again (nor touches their pages, which would copy them in every worker); the collector
then runs again, for what the workers themselves make. The forkserver's stdin, stdout and
stderr then point at /dev/null (a preload that failed has printed its traceback already), so
it never holds the judge's output open: whoever reads `grade`'s output sees its end when the
judge exits. Before it freezes, it seeds torch and numpy once (`_warm_seeding`): a worker seeds
them again with its own seed, but no longer pays the first call's set-up (torch's device seeders:
about 10 ms and 1,500 copied pages in each worker).
"""
from __future__ import annotations

import gc
import os
import sys

from grader.sandbox.forkserver_init import in_forkserver


def _quiet_stdio() -> None:
    """fds 0-2 -> /dev/null (the forkserver's own Python objects keep working)."""
    try:
        null = os.open(os.devnull, os.O_RDWR)
    except OSError:
        return
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    if null > 2:
        os.close(null)


def _warm_seeding() -> None:
    """Seed torch and numpy's legacy generator once, as every worker does first (it then seeds
    them with its own seed); no tensor is made, no kernel runs, CUDA is not initialised."""
    torch = sys.modules.get("torch")
    if torch is not None:
        torch.manual_seed(0)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(0)


if in_forkserver():
    _warm_seeding()
    gc.freeze()
    gc.enable()
    _quiet_stdio()
