"""Imported only by the warm forkserver (it is in `sandbox.PRELOAD`): make it a subreaper.

Descendants orphaned when a worker dies are then re-parented to the forkserver instead of
init, so the judge can find and kill them (`sandbox._sweep`), and when the forkserver exits
(its judge died) it kills every descendant it still has.
"""
from __future__ import annotations

import atexit
import os
import sys
import warnings

from grader.containment import isolation
from grader.containment import reaper


def _in_forkserver() -> bool:
    return sys.argv == ["-c"] and "multiprocessing.forkserver" in sys.modules


def _install() -> None:
    if not _in_forkserver() or "subreaper" in isolation.disabled_by_test():
        return
    if reaper.become_subreaper():
        warnings.filterwarnings("ignore", message="forkserver: waitpid returned unexpected pid")
        atexit.register(reaper.kill_descendants, os.getpid())


_install()
