"""Which isolation layers exist, which the judge asks for, and the strict floor.

The judge builds a `Request` per worker (what to apply, what must hold); the worker
applies it before any student code runs and confirms the layers that took effect.
`GRADER_TEST_DISABLE_LAYERS=a,b` switches layers off: it exists for the hostile suite,
to prove that each case is stopped by the layer it names. It can only weaken a run.
"""
from __future__ import annotations

import importlib.util
import os
import sys
from dataclasses import dataclass

DISABLE_ENV = "GRADER_TEST_DISABLE_LAYERS"

# name -> what it stops (the report and `grade doctor` use these words)
LAYERS: dict[str, str] = {
    "setsid": "the worker runs in its own session and process group",
    "pdeathsig": "workers die with the grader (PR_SET_PDEATHSIG)",
    "subreaper": "orphaned descendants are adopted and killed (PR_SET_CHILD_SUBREAPER)",
    "userns": "a user namespace (gives the other namespaces without root)",
    "pidns": "a PID namespace: killing its first process kills every descendant",
    "netns": "a network namespace with no interfaces up: no network",
    "ipcns": "an IPC namespace: no System V IPC or message queues shared with other processes",
    "utsns": "a UTS namespace: the host name cannot be changed",
    "mntns": "a mount namespace: private mounts",
    "mount-hide": "the answer keys' folders and the forkserver's socket are hidden under empty mounts",
    "proc-private": "/proc shows only the worker's own processes",
    "box-quota": "the working directory and /dev/shm share one size-capped tmpfs",
    "dev-private": "a private /dev: only null, zero, full, random, urandom, a private shm and private ptys",
    "no-tty": "no controlling terminal and no terminal descriptor",
    "caps-drop": "no capabilities at all (bounding set emptied too)",
    "pid-max": "a bound on processes in the PID namespace",
    "cgroup-pids": "a cgroup bound on processes (pids.max), killed as a whole",
    "cgroup-memory": "a cgroup bound on memory",
    "cgroup-cpu": "a cgroup bound on CPU (its share of --jobs); time budgets count its own CPU time",
    "landlock": "Landlock: read only system and package files (not the answer keys), write only the box",
    "landlock-net": "Landlock: no TCP bind or connect",
    "landlock-scope": "Landlock: no signals to, or abstract sockets of, processes outside the sandbox",
    "no-new-privs": "no privilege gain through setuid programs",
    "seccomp": "seccomp: no sockets of any family (unix, vsock, netlink, packet, inet...), no ptrace",
    "rlimit-cpu": "a CPU-time limit",
    "rlimit-data": "a memory limit (RLIMIT_DATA, works with CUDA)",
    "rlimit-fsize": "a file-size limit",
    "rlimit-core": "no core dumps",
    "rlimit-nproc": "a process limit (binds only non-root users)",
    "env-scrub": "a scrubbed environment",
}

# The floor `--isolation strict` demands: processes, network and files all contained.
STRICT: tuple[str, ...] = ("pdeathsig", "pidns", "netns", "landlock", "rlimit-cpu", "rlimit-data", "rlimit-fsize",
                           "caps-drop", "dev-private")
MODES = ("best-effort", "strict")


@dataclass(frozen=True)
class Request:
    """What the judge asks one worker to apply (judge -> worker, plain data)."""

    disabled: frozenset[str] = frozenset()
    required: tuple[str, ...] = ()
    hide: tuple[str, ...] = ()          # paths to hide (the course's answer keys, forkserver socket dir)
    cgroup_dirs: tuple[str, ...] = ()   # cgroups to join, made by the judge
    cgroup_layers: tuple[str, ...] = ()
    box_bytes: int = 256 * 1024**2
    devices: tuple[str, ...] = ()       # device nodes beyond the harmless ones (GPU grading)

    def on(self, layer: str) -> bool:
        return layer not in self.disabled


def disabled_by_test() -> frozenset[str]:
    """Layers switched off through GRADER_TEST_DISABLE_LAYERS (hostile-suite use only)."""
    raw = os.environ.get(DISABLE_ENV, "")
    return frozenset(x.strip() for x in raw.split(",") if x.strip())


def required(mode: str) -> tuple[str, ...]:
    """The layers a mode demands."""
    if mode not in MODES:
        raise ValueError(f"unknown isolation mode {mode!r}")
    return STRICT if mode == "strict" else ()


class RefuseHidden:
    """A meta-path finder, first in line in the student's worker: a module whose file lies in
    a hidden path (an answer key) is refused, whichever finder would have found it. One layer
    among others (Landlock and the hidden mounts keep the files themselves unreadable)."""

    def __init__(self, hidden: tuple[str, ...]) -> None:
        self.hidden = tuple(os.path.realpath(h) for h in hidden)

    def find_spec(self, name: str, path: object = None, target: object = None) -> None:
        for finder in sys.meta_path:
            if finder is self or not hasattr(finder, "find_spec"):
                continue
            try:
                spec = finder.find_spec(name, path, target)
            except ImportError:
                raise
            except Exception:
                continue
            if spec is not None:
                places = [spec.origin or "", *(spec.submodule_search_locations or [])]
                if any(p and self._hidden(p) for p in places):
                    raise ImportError(f"{name} is not available to submissions", name=name)
                return None  # let the import system ask that finder again, as usual
        return None

    def _hidden(self, path: str) -> bool:
        real = os.path.realpath(path)
        return any(real == h or real.startswith(h.rstrip("/") + "/") for h in self.hidden)


def guard_imports(hidden: tuple[str, ...]) -> bool:
    """Put `RefuseHidden` first on sys.meta_path; True when there was something to hide."""
    if not hidden:
        return False
    sys.meta_path.insert(0, RefuseHidden(hidden))
    return True


def forkserver_dir() -> str | None:
    """The private directory holding the forkserver's listening socket, if one runs."""
    try:
        from multiprocessing import forkserver

        address = forkserver._forkserver._forkserver_address  # type: ignore[attr-defined]
    except (ImportError, AttributeError):
        return None
    if isinstance(address, str) and address and not address.startswith("\0"):
        return os.path.dirname(address)
    return None


def platform_note() -> str:
    if sys.platform.startswith("linux"):
        return "Linux"
    if sys.platform == "darwin":
        return "macOS: process group and rlimits only"
    if sys.platform.startswith("win"):
        return "Windows: a separate process with a wall-clock limit only"
    return sys.platform
