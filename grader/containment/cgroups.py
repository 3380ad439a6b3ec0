"""Judge side: a cgroup per worker where one can be had (root, or a delegated cgroup v2).

`pids.max` is the process bound that binds root too; `memory` caps what RLIMIT_DATA misses;
`cpu` gives each worker its own scheduling group (a fair share against its neighbours,
capped at its share of the parallel jobs when that is known) and counts the CPU time of the
whole worker tree, which time budgets use. The worker joins its cgroup itself, before it
forks; the judge kills everything in it.
"""
from __future__ import annotations

import itertools
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass

from grader.containment import reaper

ROOT = "/sys/fs/cgroup"
_COUNTER = itertools.count()
_COLLECTED: set[str] = set()
CONTROLLERS = ("pids", "memory", "cpu")
PERIOD_US = 100_000
_PARALLEL = [0]  # workers graded at once (0: unknown, no CPU cap)


def share_cpus(jobs: int) -> None:
    """Cap each later worker's CPU at its share of the machine among `jobs` at once."""
    _PARALLEL[0] = max(0, int(jobs))


def cpu_quota_us() -> int | None:
    """cpu.max's quota for one worker: the machine's CPUs over the parallel jobs; None: no cap."""
    jobs = _PARALLEL[0]
    if jobs <= 1:
        return None
    try:
        cpus = len(os.sched_getaffinity(0))
    except (AttributeError, OSError):
        cpus = os.cpu_count() or 1
    return max(PERIOD_US // 10, cpus * PERIOD_US // jobs)


@dataclass(frozen=True)
class Group:
    """The cgroup directories made for one worker and the layers they give."""

    dirs: tuple[str, ...]
    layers: tuple[str, ...]
    usage: str = ""  # the file counting the group's CPU time (cpu.stat or cpuacct.usage)


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
            if enabled & set(CONTROLLERS) and os.access(base, os.W_OK):
                return base, enabled
    return None


_PRIME_TARGET: list[str | None] = []  # the cgroup.procs a prime writes to, found once


def prime() -> None:
    """Judge side, as a worker starts: move this process to the cgroup it is in already (a
    no-op), in a thread. The kernel makes the first cgroup migration after a quiet spell wait
    for an RCU grace period (10-15 ms here, not CPU); with this one under way or just done,
    the worker's own `join` a few ms later goes through at once."""
    if not _PRIME_TARGET:
        _PRIME_TARGET.append(_prime_target())
    target = _PRIME_TARGET[0]
    if target is not None:
        threading.Thread(target=_write_own_pid, args=(target,), name="cgroup-prime", daemon=True).start()


def _prime_target() -> str | None:
    if not sys.platform.startswith("linux"):
        return None
    own = _own_paths()
    v2 = _v2_base(own)
    bases = [v2[0]] if v2 else [b for b in (_v1_base(c, own) for c in CONTROLLERS) if b]
    return os.path.join(bases[0], "cgroup.procs") if bases else None


def _write_own_pid(path: str) -> None:
    try:
        with open(path, "w") as fh:
            fh.write(str(os.getpid()))
    except OSError:  # not allowed here (an undelegated cgroup): nothing is lost but the head start
        pass


def available() -> tuple[str, ...]:
    """The cgroup layers this process could give its workers."""
    if not sys.platform.startswith("linux"):
        return ()
    own = _own_paths()
    v2 = _v2_base(own)
    if v2:
        return tuple(f"cgroup-{c}" for c in CONTROLLERS if c in v2[1])
    return tuple(f"cgroup-{c}" for c in CONTROLLERS
                 if _v1_base(c, own) and (c != "cpu" or _v1_base("cpuacct", own)))


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
    quota = cpu_quota_us()
    v1_settings = {"pids": {"pids.max": str(processes)}, "memory": {"memory.limit_in_bytes": str(memory_bytes)},
                   "cpu": {"cpu.cfs_period_us": str(PERIOD_US), "cpu.cfs_quota_us": str(quota or -1)},
                   "cpuacct": {}}
    v2_settings = {"pids": {"pids.max": str(processes)}, "memory": {"memory.max": str(memory_bytes)},
                   "cpu": {"cpu.max": f"{quota or 'max'} {PERIOD_US}"}}
    own = _own_paths()
    v2 = _v2_base(own)
    dirs, layers, usage = [], [], ""
    for controller in CONTROLLERS:
        if f"cgroup-{controller}" not in wanted:
            continue
        if v2:
            if controller not in v2[1]:
                continue
            made = _make([(os.path.join(v2[0], name), v2_settings[controller])])
            counter = os.path.join(v2[0], name, "cpu.stat")
        else:
            parts = [controller] + (["cpuacct"] if controller == "cpu" else [])
            bases = [_v1_base(c, own) for c in parts]
            if None in bases:
                continue
            for base in bases:
                if base not in _COLLECTED:  # once per judge and hierarchy
                    _COLLECTED.add(base)
                    _collect_stale(base)
            made = _make([(os.path.join(b, name), v1_settings[c]) for b, c in zip(bases, parts)])  # type: ignore[arg-type]
            counter = os.path.join(bases[-1], name, "cpuacct.usage")  # type: ignore[arg-type]
        if not made:
            continue
        dirs += [p for p in made if p not in dirs]
        layers.append(f"cgroup-{controller}")
        if controller == "cpu":
            usage = counter
    return Group(tuple(dirs), tuple(layers), usage) if dirs else None


def _make(paths: list[tuple[str, dict[str, str]]]) -> list[str]:
    """Create each cgroup with its settings; all or none (those made are removed again)."""
    made = []
    try:
        for path, settings in paths:
            if not os.path.isdir(path):
                os.makedirs(path)
                made.append(path)
            for key, value in settings.items():
                with open(os.path.join(path, key), "w") as fh:
                    fh.write(value)
    except OSError:
        for path in made:
            try:
                os.rmdir(path)
            except OSError:
                pass
        return []
    return [p for p, _ in paths]


def cpu_seconds(group: Group | None) -> float | None:
    """The CPU time the group's processes have used (every thread, every descendant)."""
    if group is None or not group.usage:
        return None
    try:  # read once per task: the bare system calls, none of open()'s stream objects
        fd = os.open(group.usage, os.O_RDONLY)
        try:
            text = os.read(fd, 1 << 16).decode("ascii", "replace")
        finally:
            os.close(fd)
    except OSError:
        return None
    try:
        if group.usage.endswith("cpuacct.usage"):
            return int(text) / 1e9
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "usage_usec":
                return int(value) / 1e6
    except ValueError:
        return None
    return None


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
    for _ in range(rounds):
        pids = signal_all(group)
        if not pids:
            return
        reaper.wait_gone(pids)


def signal_all(group: Group) -> set[int]:
    """SIGKILL everything in the group once, without waiting; the pids it held."""
    for path in group.dirs:
        try:
            with open(os.path.join(path, "cgroup.kill"), "w") as fh:  # cgroup v2
                fh.write("1")
        except OSError:
            pass
    pids = members(group)
    for pid in pids:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    return pids


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
