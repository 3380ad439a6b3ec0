"""Judge side: a cgroup per worker where one can be had (root, or a delegated cgroup v2).

`pids.max` is the process bound that binds root too; `memory` caps what RLIMIT_DATA misses.
The worker joins its cgroup itself, before it forks; the judge kills everything in it.
"""
from __future__ import annotations

import itertools
import os
import signal
import sys
import time
from dataclasses import dataclass

ROOT = "/sys/fs/cgroup"
_COUNTER = itertools.count()
_COLLECTED: set[str] = set()


@dataclass(frozen=True)
class Group:
    """The cgroup directories made for one worker and the layers they give."""

    dirs: tuple[str, ...]
    layers: tuple[str, ...]


def _own_paths() -> dict[str, str]:
    """controller (or '' for v2) -> our cgroup path, from /proc/self/cgroup."""
    out = {}
    try:
        with open("/proc/self/cgroup") as fh:
            for line in fh:
                _id, controllers, path = line.rstrip("\n").split(":", 2)
                for c in controllers.split(",") if controllers else [""]:
                    out[c] = path
    except (OSError, ValueError):
        pass
    return out


def _v1_base(controller: str, own: dict[str, str]) -> str | None:
    mount = os.path.join(ROOT, controller)
    if controller not in own or not os.path.exists(os.path.join(mount, "cgroup.procs")):
        return None
    base = os.path.join(mount, own[controller].lstrip("/"))
    return base if os.path.isdir(base) and os.access(base, os.W_OK) else None


def _v2_base(own: dict[str, str]) -> tuple[str, set[str]] | None:
    for mount in (ROOT, os.path.join(ROOT, "unified")):
        if "" in own and os.path.exists(os.path.join(mount, "cgroup.subtree_control")):
            base = os.path.join(mount, own[""].lstrip("/"))
            try:
                with open(os.path.join(base, "cgroup.subtree_control")) as fh:
                    enabled = set(fh.read().split())
            except OSError:
                continue
            if enabled & {"pids", "memory"} and os.access(base, os.W_OK):
                return base, enabled
    return None


def available() -> tuple[str, ...]:
    """The cgroup layers this process could give its workers."""
    if not sys.platform.startswith("linux"):
        return ()
    own = _own_paths()
    v2 = _v2_base(own)
    if v2:
        return tuple(f"cgroup-{c}" for c in ("pids", "memory") if c in v2[1])
    return tuple(f"cgroup-{c}" for c in ("pids", "memory") if _v1_base(c, own))


def _collect_stale(base: str) -> None:
    """Remove empty cgroups left by judges that were killed (their pid no longer exists)."""
    try:
        names = os.listdir(base)
    except OSError:
        return
    for name in names:
        parts = name.split("-")
        if len(parts) == 3 and parts[0] == "grader" and parts[1].isdigit() and not os.path.exists(f"/proc/{parts[1]}"):
            try:
                os.rmdir(os.path.join(base, name))  # fails, harmlessly, while processes remain
            except OSError:
                pass


def create(processes: int, memory_bytes: int, wanted: tuple[str, ...]) -> Group | None:
    """Make a fresh cgroup with the bounds; None when none can be had."""
    if not sys.platform.startswith("linux") or not wanted:
        return None
    name = f"grader-{os.getpid()}-{next(_COUNTER)}"
    settings = {"pids": ("pids.max", str(processes)),
                "memory": ("memory.limit_in_bytes", str(memory_bytes))}
    own = _own_paths()
    v2 = _v2_base(own)
    dirs, layers = [], []
    for controller in ("pids", "memory"):
        if f"cgroup-{controller}" not in wanted:
            continue
        if v2:
            if controller not in v2[1]:
                continue
            path = os.path.join(v2[0], name)
            key = "pids.max" if controller == "pids" else "memory.max"
        else:
            base = _v1_base(controller, own)
            if base is None:
                continue
            if base not in _COLLECTED:  # once per judge and hierarchy
                _COLLECTED.add(base)
                _collect_stale(base)
            path = os.path.join(base, name)
            key = settings[controller][0]
        try:
            os.makedirs(path, exist_ok=True)
            with open(os.path.join(path, key), "w") as fh:
                fh.write(settings[controller][1])
        except OSError:
            continue
        if path not in dirs:
            dirs.append(path)
        layers.append(f"cgroup-{controller}")
    return Group(tuple(dirs), tuple(layers)) if dirs else None


def join(group: Group) -> tuple[str, ...]:
    """Worker side: move this process into the group; return the layers now binding."""
    for path in group.dirs:
        try:
            with open(os.path.join(path, "cgroup.procs"), "w") as fh:
                fh.write(str(os.getpid()))
        except OSError:
            return ()
    return group.layers


def members(group: Group) -> set[int]:
    pids: set[int] = set()
    for path in group.dirs:
        try:
            with open(os.path.join(path, "cgroup.procs")) as fh:
                pids.update(int(x) for x in fh.read().split())
        except (OSError, ValueError):
            pass
    return pids


def kill(group: Group, rounds: int = 100) -> None:
    """SIGKILL everything in the group until it is empty."""
    for path in group.dirs:
        try:
            with open(os.path.join(path, "cgroup.kill"), "w") as fh:  # cgroup v2
                fh.write("1")
        except OSError:
            pass
    for _ in range(rounds):
        pids = members(group)
        if not pids:
            return
        for pid in pids:
            try:
                os.kill(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        time.sleep(0.005)


def remove(group: Group) -> None:
    """Delete the group's directories (once empty)."""
    for path in group.dirs:
        for _ in range(100):
            try:
                os.rmdir(path)
                break
            except FileNotFoundError:
                break
            except OSError:
                time.sleep(0.01)
