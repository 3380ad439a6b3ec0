"""Imported only by the warm forkserver, last of its preloads: freeze what the preloads made.

`gc.freeze()` moves every object made so far (torch's ~170k among them) out of the garbage
collector's reach, so no collection in the forkserver or in a worker forked from it walks
them again (nor touches their pages, which would copy them in every worker); the collector
then runs again, for what the workers themselves make. The forkserver's stdin, stdout and
stderr then point at /dev/null (a preload that failed has printed its traceback already), so
it never holds the judge's output open: whoever reads `grade`'s output sees its end when the
judge exits. Before it freezes, it seeds torch and numpy once as a worker does
(`_warm_seeding`): a worker seeds them again with its own seed, but no longer pays the first
call's set-up (where `probes.manual_seed` is torch's whole `manual_seed`, with its device
seeders: about 10 ms and 1,500 copied pages in each worker; a CPU-only build on Linux seeds the
CPU generator alone, whose first call costs little).
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
    """Seed torch and numpy's legacy generator once, with the calls every worker makes first (it
    then seeds them with its own seed); no tensor is made, no kernel runs, CUDA is not initialised."""
    probes = sys.modules.get("grader.worker.probes")
    if probes is not None:
        probes.manual_seed(0)
    numpy = sys.modules.get("numpy")
    if numpy is not None:
        numpy.random.seed(0)


if in_forkserver():
    _warm_seeding()
    gc.freeze()
    gc.enable()
    _quiet_stdio()
