"""Time a command until it, and everything it started, is gone: the cost a caller really pays.

The bench process makes itself a subreaper (Linux), so whatever the command leaves behind
(a forkserver, a resource tracker, an orphaned worker) is re-parented here. A run ends when
the command's output pipe reaches EOF (every holder of it has closed it or exited) and every
descendant has exited and been reaped. CPU is the rise of RUSAGE_CHILDREN over the run:
every process it started, orphans included, once reaped.
"""
from __future__ import annotations

import ctypes
import os
import resource
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

PR_SET_CHILD_SUBREAPER = 36


@dataclass(frozen=True)
class Run:
    wall: float  # seconds from the start to the last descendant's exit and the output's EOF
    cpu: float  # user + system seconds of every process the command started
    returncode: int
    output: bytes  # the last 2 KiB of stdout and stderr together


def become_subreaper() -> None:
    """Orphans of the commands we run come back to us (else they would escape the count)."""
    if not sys.platform.startswith("linux"):
        raise SystemExit("these benches need Linux (a subreaper counts every process a command starts)")
    if ctypes.CDLL(None, use_errno=True).prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
        raise SystemExit("prctl(PR_SET_CHILD_SUBREAPER) failed")


def _children_cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_CHILDREN)
    return r.ru_utime + r.ru_stime


def _reap_all() -> None:
    """Wait for every child and re-parented orphan; blocks until the last one exits."""
    while True:
        try:
            os.waitpid(-1, 0)
        except ChildProcessError:
            return
        except InterruptedError:
            continue


def run(cmd: Sequence[str], cwd: Path | None = None, env: dict[str, str] | None = None) -> Run:
    """Run `cmd` to the end of it and of everything it started; see the module's docstring."""
    _reap_all()  # nothing of an earlier run may be counted here
    cpu0 = _children_cpu()
    t = time.perf_counter()
    proc = subprocess.Popen(list(cmd), cwd=cwd, env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT)
    assert proc.stdout is not None
    tail = b""
    while chunk := proc.stdout.read(65536):  # EOF: every process holding the pipe closed it
        tail = (tail + chunk)[-2048:]
    proc.stdout.close()
    code = proc.wait()
    _reap_all()
    wall = time.perf_counter() - t
    return Run(wall, _children_cpu() - cpu0, code, tail)


def check(result: Run, cmd: Sequence[str], ok: Sequence[int] = (0,)) -> Run:
    if result.returncode not in ok:
        raise SystemExit(f"{' '.join(cmd)} exited {result.returncode}: {result.output.decode(errors='replace')}")
    return result
