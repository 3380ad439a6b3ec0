"""Imported only by the warm forkserver, first of its preloads (`warm.preloads`).

It makes the forkserver a subreaper: descendants orphaned when a worker dies are then
re-parented to it instead of init, so the judge can find and kill them (`process.sweep`),
and when the forkserver exits (its judge died) it kills every descendant it still has, then
leaves at once (`os._exit`: no interpreter shutdown, whose garbage collection over torch's
objects costs about half a second). It turns the garbage collector off for the preloads
(`forkserver_ready` freezes what they made, turns it back on and lets go of the judge's
output streams). numpy's BLAS gets one thread, as every worker's limits ask (`Limits.threads`;
the environment a worker sets for itself comes after numpy has started its thread pool here),
so that no BLAS thread spins beside the workers after each product.
"""
from __future__ import annotations

import atexit
import gc
import os
import sys
import warnings

from grader.containment import isolation
from grader.containment import reaper
from grader.protocol.jobs import Limits


def in_forkserver() -> bool:
    """Whether this process is the warm forkserver (its preloads act only there)."""
    return sys.argv == ["-c"] and "multiprocessing.forkserver" in sys.modules


def _leave(reaps: bool) -> None:
    """The forkserver's last exit handler: kill what it still has, then exit without a shutdown."""
    if reaps:
        reaper.kill_descendants(os.getpid(), reap_children=True)
        reaper.reap()
    os._exit(0)


def _install() -> None:
    if not in_forkserver():
        return
    os.environ["OPENBLAS_NUM_THREADS"] = str(Limits().threads)  # before numpy's import (the next preload)
    gc.disable()
    reaps = "subreaper" not in isolation.disabled_by_test() and reaper.become_subreaper()
    if reaps:
        warnings.filterwarnings("ignore", message="forkserver: waitpid returned unexpected pid")
    atexit.register(_leave, reaps)


_install()
