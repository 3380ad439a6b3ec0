"""Dropping every capability, and every terminal, before student code runs (Linux).

A worker that is root (no user namespace) or root of its own user namespace would keep
capabilities: `ioctl(TIOCSTI)` into a terminal, `sethostname`, raw sockets. The bounding
set is emptied too, so no later `execve` (of a setuid program or as uid 0) regains any.
"""
from __future__ import annotations

import ctypes
import os

from grader.containment.namespaces import libc

PR_CAPBSET_DROP, PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 24, 47, 4
CAP_VERSION_3 = 0x20080522
STATUS_KEYS = ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb")


class _Header(ctypes.Structure):
    _fields_ = [("version", ctypes.c_uint32), ("pid", ctypes.c_int)]


class _Data(ctypes.Structure):
    _fields_ = [("effective", ctypes.c_uint32), ("permitted", ctypes.c_uint32), ("inheritable", ctypes.c_uint32)]


def _last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as fh:
            return int(fh.read())
    except (OSError, ValueError):
        return 63


def drop_all() -> bool:
    """Empty the bounding, ambient, inheritable, permitted and effective sets; True if all are."""
    c = libc()
    if c is None:
        return False
    for cap in range(_last_cap() + 1):
        c.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    c.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    data = (_Data * 2)()
    c.capset(ctypes.byref(_Header(CAP_VERSION_3, 0)), data)
    return none_left()


def none_left() -> bool:
    """Whether /proc/self/status shows no capability in any set."""
    try:
        with open("/proc/self/status") as fh:
            rows = dict(line.split(":", 1) for line in fh if ":" in line)
        return all(int(rows[k].strip(), 16) == 0 for k in STATUS_KEYS if k in rows) and "CapBnd" in rows
    except (OSError, ValueError):
        return False


def detach_terminals() -> bool:
    """Point every inherited descriptor that is a terminal at /dev/null; True when the
    process then has no controlling terminal and no terminal descriptor (call after setsid)."""
    null = os.open(os.devnull, os.O_RDWR | os.O_CLOEXEC)
    try:
        for name in os.listdir("/proc/self/fd"):
            fd = int(name)
            if fd != null and _isatty(fd):
                os.dup2(null, fd, inheritable=fd <= 2)
    except (OSError, ValueError):
        return False
    finally:
        os.close(null)
    return _no_controlling_tty() and not any(_isatty(int(n)) for n in os.listdir("/proc/self/fd"))


def _isatty(fd: int) -> bool:
    try:
        return os.isatty(fd)
    except OSError:
        return False


def _no_controlling_tty() -> bool:
    try:
        with open("/proc/self/stat", "rb") as fh:
            stat = fh.read()
        return int(stat[stat.rindex(b")") + 2 :].split()[4]) == 0  # tty_nr (field 7)
    except (OSError, ValueError, IndexError):
        return False
