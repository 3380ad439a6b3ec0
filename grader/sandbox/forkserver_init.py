"""Imported only by the warm forkserver, first of its preloads (`warm.preloads`).

It makes the forkserver a subreaper: descendants orphaned when a worker dies are then
re-parented to it instead of init, so the judge can find and kill them (`sandbox._sweep`),
and when the forkserver exits (its judge died) it kills every descendant it still has, then
leaves at once (`os._exit`: no interpreter shutdown, whose garbage collection over torch's
objects costs about half a second). It turns the garbage collector off for the preloads
(`forkserver_ready` freezes what they made and turns it back on), and points the
forkserver's stdin, stdout and stderr at /dev/null, so it never holds the judge's output
open: whoever reads `grade`'s output sees its end when the judge exits.
"""
from __future__ import annotations

import atexit
import gc
import os
import sys
import warnings

from grader.containment import isolation
from grader.containment import reaper


def _in_forkserver() -> bool:
    return sys.argv == ["-c"] and "multiprocessing.forkserver" in sys.modules


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


def _leave(reaps: bool) -> None:
    """The forkserver's last exit handler: kill what it still has, then exit without a shutdown."""
    if reaps:
        reaper.kill_descendants(os.getpid(), reap_children=True)
        reaper.reap()
    os._exit(0)


def _install() -> None:
    if not _in_forkserver():
        return
    gc.disable()
    _quiet_stdio()
    reaps = "subreaper" not in isolation.disabled_by_test() and reaper.become_subreaper()
    if reaps:
        warnings.filterwarnings("ignore", message="forkserver: waitpid returned unexpected pid")
    atexit.register(_leave, reaps)


_install()
