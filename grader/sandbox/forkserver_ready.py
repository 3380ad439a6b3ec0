"""Imported only by the warm forkserver, last of its preloads: freeze what the preloads made.

`gc.freeze()` moves every object made so far (torch's ~170k among them) out of the garbage
collector's reach, so no collection in the forkserver or in a worker forked from it walks
them again (nor touches their pages, which would copy them in every worker); the collector
then runs again, for what the workers themselves make. The forkserver's stdin, stdout and
stderr then point at /dev/null (a preload that failed has printed its traceback already), so
it never holds the judge's output open: whoever reads `grade`'s output sees its end when the
judge exits.
"""
from __future__ import annotations

import gc
import os

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


if in_forkserver():
    gc.freeze()
    gc.enable()
    _quiet_stdio()
