"""Finding and killing process trees through /proc (Linux), for when no PID namespace or
cgroup holds them: stop every descendant first (a stopped process cannot fork), then kill.
"""
from __future__ import annotations

import ctypes
import os
import select
import signal
import sys
import time
from collections.abc import Collection

PR_SET_CHILD_SUBREAPER = 36
LINUX = sys.platform.startswith("linux")


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to us instead of init (Linux)."""
    if not LINUX:
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
    except OSError:
        return False
    return libc.prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


def parents() -> dict[int, int]:
    """pid -> parent pid of every process visible in /proc."""
    out = {}
    try:
        names = os.listdir("/proc")
    except OSError:
        return out
    for name in names:
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as fh:
                stat = fh.read()
            fields = stat[stat.rindex(b")") + 2 :].split()
            if fields[0] not in (b"Z", b"X"):  # zombies are dead already
                out[int(name)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    return out


def descendants(root: int, table: dict[int, int] | None = None, spare: Collection[int] = ()) -> list[int]:
    """Every descendant of `root` (not `root` itself), less the children in `spare` and theirs."""
    table = parents() if table is None else table
    children: dict[int, list[int]] = {}
    for pid, ppid in table.items():
        children.setdefault(ppid, []).append(pid)
    out, todo = [], [root]
    while todo:
        for child in children.get(todo.pop(), []):
            if child not in out and child != root and child not in spare:
                out.append(child)
                todo.append(child)
    return out


def _signal_all(pids: list[int], sig: int) -> None:
    for pid in pids:
        try:
            os.kill(pid, sig)
        except (ProcessLookupError, PermissionError):
            pass


def kill_descendants(root: int, rounds: int = 50, reap_children: bool = False, spare: Collection[int] = ()) -> int:
    """Stop then kill every descendant of `root`, again until none is left; return the count.

    Only a subreaper's whole tree is sure to be emptied: an orphan goes to its nearest subreaper,
    so a process that forks and exits between two scans of a smaller tree has left it, and its
    child is found under `root` at the next round only if `root` is that subreaper.
    `reap_children` collects our own exited children too: only for a process whose children
    are all ours to reap (the keeper), never the judge (multiprocessing waits for its own).
    `spare`: children of `root` left alone with all below them (the running workers).
    """
    if not LINUX:
        return 0
    killed = 0
    for _ in range(rounds):
        pids = descendants(root, spare=spare)
        if not pids:
            break
        _signal_all(pids, signal.SIGSTOP)
        _signal_all(descendants(root, spare=spare), signal.SIGKILL)
        killed += len(pids)
        if reap_children:
            reap()
        wait_gone(pids)
        if reap_children:
            reap()
    return killed


def wait_gone(pids: list[int] | set[int], timeout: float = 0.5) -> None:
    """Wait until each of `pids` has exited (a zombie counts), or `timeout`: woken by pidfds the
    moment they die, not by polling; where there are none, a short sleep instead."""
    if not hasattr(os, "pidfd_open"):
        time.sleep(0.005)
        return
    fds = []
    try:
        for pid in pids:
            try:
                fds.append(os.pidfd_open(pid))
            except OSError:  # gone already (or not ours to see)
                pass
        deadline = time.monotonic() + timeout
        poller = select.poll()
        for fd in fds:
            poller.register(fd, select.POLLIN)
        left = len(fds)
        while left:
            wait = deadline - time.monotonic()
            if wait <= 0:
                return
            for fd, _ in poller.poll(wait * 1000):
                poller.unregister(fd)
                left -= 1
    finally:
        for fd in fds:
            os.close(fd)


def reap() -> None:
    """Collect any exited children without blocking."""
    while True:
        try:
            pid, _ = os.waitpid(-1, os.WNOHANG)
        except ChildProcessError:
            return
        if pid == 0:
            return
