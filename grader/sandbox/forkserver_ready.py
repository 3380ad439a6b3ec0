"""Imported only by the warm forkserver, last of its preloads: freeze what the preloads made.

`gc.freeze()` moves every object made so far (torch's ~170k among them) out of the garbage
collector's reach, so no collection in the forkserver or in a worker forked from it walks
them again (nor touches their pages, which would copy them in every worker); the collector
then runs again, for what the workers themselves make.
"""
from __future__ import annotations

import gc
import sys


def _in_forkserver() -> bool:
    return sys.argv == ["-c"] and "multiprocessing.forkserver" in sys.modules


if _in_forkserver():
    gc.freeze()
    gc.enable()
