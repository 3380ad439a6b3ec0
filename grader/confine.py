"""Containment applied inside a freshly forked worker, before any student code runs."""
from __future__ import annotations

import ctypes
import os
import signal
import sys

from .jobs import Limits

PR_SET_PDEATHSIG = 1


def _libc() -> ctypes.CDLL | None:
    if not sys.platform.startswith("linux"):
        return None
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


def die_with_parent() -> bool:
    """Ask the kernel to SIGKILL us when our parent dies (Linux)."""
    libc = _libc()
    return bool(libc) and libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0) == 0


def set_rlimits(limits: Limits) -> list[str]:
    """CPU time, data size, file size and core dumps; returns what was applied."""
    try:
        import resource
    except ImportError:  # Windows
        return []
    applied = []
    wanted = {
        "RLIMIT_CPU": limits.cpu_seconds,
        "RLIMIT_DATA": limits.memory_bytes,
        "RLIMIT_FSIZE": limits.file_bytes,
        "RLIMIT_CORE": 0,
    }
    for name, value in wanted.items():
        which = getattr(resource, name, None)
        if which is None:
            continue
        try:
            _soft, hard = resource.getrlimit(which)
            cap = value if hard == resource.RLIM_INFINITY else min(value, hard)
            resource.setrlimit(which, (cap, cap))
            applied.append(name.lower().replace("rlimit_", "rlimit-"))
        except (ValueError, OSError):
            pass
    return applied


def scrub_environment(box: str, threads: int) -> None:
    """Replace the environment with a minimal one; pin thread counts."""
    keep = {k: os.environ[k] for k in ("PATH", "LANG", "LC_ALL", "SYSTEMROOT") if k in os.environ}
    os.environ.clear()
    os.environ.update(keep)
    n = str(threads)
    os.environ.update(HOME=box, TMPDIR=box, TMP=box, TEMP=box, OMP_NUM_THREADS=n, MKL_NUM_THREADS=n,
                      OPENBLAS_NUM_THREADS=n, PYTHONHASHSEED="0", MPLBACKEND="Agg")


def clean_sys_path() -> None:
    """Drop the cwd, '' and user site from sys.path; keep the interpreter's own entries."""
    import site

    user = getattr(site, "USER_SITE", None) or ""
    cwd = os.getcwd()
    sys.path[:] = [p for p in sys.path if p not in ("", ".", cwd) and not (user and p.startswith(user))]


def redirect_output(log_path: str) -> None:
    """Send fd 1 and 2 to the judge's log file (read back capped, never scored)."""
    fd = os.open(log_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    sys.stdout.flush()
    sys.stderr.flush()
    os.dup2(fd, 1)
    os.dup2(fd, 2)
    os.close(fd)
    if hasattr(signal, "SIGXFSZ"):
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)


def enter(box: str, log_path: str, limits: Limits) -> list[str]:
    """Apply every layer available here; return the names of those that are active."""
    layers = []
    if hasattr(os, "setsid"):
        os.setsid()
        layers.append("process-group")
    if die_with_parent():
        layers.append("pdeathsig")
    redirect_output(log_path)
    os.chdir(box)
    clean_sys_path()
    scrub_environment(box, limits.threads)
    layers += set_rlimits(limits)
    return layers
