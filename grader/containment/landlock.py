"""Landlock (Linux >= 5.13) through ctypes: an allow-list of what the worker may touch.

The worker may read the interpreter, the installed packages (except the reference
solutions) and system libraries; it may read and write only the harmless devices (null,
zero, full, random, urandom; GPU nodes with ioctl when grading on a GPU), and write only
inside its box (and its private /dev/shm). From ABI 4 TCP
bind/connect are denied, from ABI 6 it cannot signal processes outside its domain or reach
abstract unix sockets. Landlock also stops a sandboxed process from ptracing (or reading
/proc/PID/mem of) any process outside its domain.
"""
from __future__ import annotations

import ctypes
import os
import sys
from dataclasses import dataclass

from grader.containment.namespaces import libc

SYS_CREATE_RULESET, SYS_ADD_RULE, SYS_RESTRICT_SELF = 444, 445, 446  # same on x86_64 and arm64
CREATE_RULESET_VERSION = 1
RULE_PATH_BENEATH, RULE_NET_PORT = 1, 2
PR_SET_NO_NEW_PRIVS = 38

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
REMOVE_DIR, REMOVE_FILE, MAKE_CHAR, MAKE_DIR = 1 << 4, 1 << 5, 1 << 6, 1 << 7
MAKE_REG, MAKE_SOCK, MAKE_FIFO, MAKE_BLOCK, MAKE_SYM = 1 << 8, 1 << 9, 1 << 10, 1 << 11, 1 << 12
REFER, TRUNCATE, IOCTL_DEV = 1 << 13, 1 << 14, 1 << 15
NET_BIND_TCP, NET_CONNECT_TCP = 1 << 0, 1 << 1
SCOPE_ABSTRACT_UNIX, SCOPE_SIGNAL = 1 << 0, 1 << 1

READ = EXECUTE | READ_FILE | READ_DIR
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | TRUNCATE | IOCTL_DEV  # valid on a non-directory
SYSTEM_READ = ("/usr", "/lib", "/lib64", "/lib32", "/libx32", "/bin", "/sbin", "/etc", "/opt", "/proc", "/sys",
               "/nix", "/gnu")
DEVICES = ("/dev/null", "/dev/zero", "/dev/full", "/dev/random", "/dev/urandom")


class _RulesetAttr(ctypes.Structure):
    _fields_ = [("handled_access_fs", ctypes.c_uint64), ("handled_access_net", ctypes.c_uint64),
                ("scoped", ctypes.c_uint64)]


class _PathBeneath(ctypes.Structure):
    _pack_ = 1
    _fields_ = [("allowed_access", ctypes.c_uint64), ("parent_fd", ctypes.c_int32)]


def abi() -> int:
    """The Landlock ABI version of this kernel (0: not available)."""
    c = libc()
    if c is None:
        return 0
    version = c.syscall(SYS_CREATE_RULESET, None, ctypes.c_size_t(0), ctypes.c_uint32(CREATE_RULESET_VERSION))
    return max(0, int(version))


def fs_rights(version: int) -> int:
    """Every filesystem right this ABI knows (all are handled, so all are denied by default)."""
    rights = (1 << 13) - 1
    if version >= 2:
        rights |= REFER
    if version >= 3:
        rights |= TRUNCATE
    if version >= 5:
        rights |= IOCTL_DEV
    return rights


@dataclass(frozen=True)
class Policy:
    """What the worker may read and write; everything else is denied."""

    read: tuple[str, ...]
    write: tuple[str, ...]
    devices: tuple[str, ...] = DEVICES   # read and write, no ioctl
    ioctl_devices: tuple[str, ...] = ()  # read, write and ioctl (GPU nodes)
    deny_tcp: bool = True
    scope: bool = True


def read_roots(hidden: tuple[str, ...]) -> tuple[str, ...]:
    """Directories to allow reading: system dirs, the interpreter, sys.path, minus `hidden`.

    A root that contains a hidden directory is replaced by its entries (recursively along
    the way down), leaving the hidden one out. Outside site-packages only importable
    entries are kept, so a source checkout's `.git`, tests and builds stay closed.
    """
    roots = list(SYSTEM_READ)
    roots += [sys.prefix, sys.base_prefix, sys.exec_prefix, os.path.dirname(os.path.realpath(sys.executable))]
    roots += [p for p in sys.path if p and os.path.isabs(p)]
    hidden_real = tuple(os.path.realpath(h) for h in hidden)
    out: list[str] = []
    for root in dict.fromkeys(os.path.realpath(r) for r in roots):
        if os.path.exists(root):
            out += _expand(root, hidden_real)
    return tuple(dict.fromkeys(out))


def _inside(path: str, parent: str) -> bool:
    return path == parent or path.startswith(parent.rstrip("/") + "/")


def _expand(root: str, hidden: tuple[str, ...]) -> list[str]:
    if any(_inside(root, h) for h in hidden):
        return []
    if not any(_inside(h, root) for h in hidden):
        return [root]
    site = os.path.basename(root) in ("site-packages", "dist-packages")
    out = []
    try:
        names = sorted(os.listdir(root))
    except OSError:
        return []
    for name in names:
        path = os.path.join(root, name)
        if name.startswith(".") or not (site or _importable(path) or any(_inside(h, path) for h in hidden)):
            continue
        out += _expand(path, hidden)
    return out


def _importable(path: str) -> bool:
    """A package (with __init__.py) or a module file."""
    if os.path.isdir(path):
        return os.path.exists(os.path.join(path, "__init__.py"))
    return path.endswith((".py", ".so", ".pth"))


def restrict(policy: Policy) -> tuple[str, ...]:
    """Apply `policy` to this process and its future children; return the layers in force."""
    version = abi()
    c = libc()
    if version < 1 or c is None:
        return ()
    handled = fs_rights(version)
    attr = _RulesetAttr(handled, 0, 0)
    layers = ["landlock"]
    if policy.deny_tcp and version >= 4:
        attr.handled_access_net = NET_BIND_TCP | NET_CONNECT_TCP
        layers.append("landlock-net")
    if policy.scope and version >= 6:
        attr.scoped = SCOPE_ABSTRACT_UNIX | SCOPE_SIGNAL
        layers.append("landlock-scope")
    size = ctypes.sizeof(_RulesetAttr) if version >= 6 else (16 if version >= 4 else 8)
    ruleset = c.syscall(SYS_CREATE_RULESET, ctypes.byref(attr), ctypes.c_size_t(size), ctypes.c_uint32(0))
    if ruleset < 0:
        return ()
    try:
        write = handled & ~(MAKE_CHAR | MAKE_BLOCK)
        device = (READ_FILE | WRITE_FILE | TRUNCATE) & handled
        gpu = (READ_FILE | WRITE_FILE | READ_DIR | IOCTL_DEV | TRUNCATE) & handled
        for paths, rights in ((policy.read, READ & handled), (policy.write, write), (policy.devices, device),
                              (policy.ioctl_devices, gpu)):
            for path in paths:
                _add(c, ruleset, path, rights)
        if c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
            return ()
        if c.syscall(SYS_RESTRICT_SELF, ctypes.c_int(ruleset), ctypes.c_uint32(0)) != 0:
            return ()
    finally:
        os.close(ruleset)
    return tuple(layers)


def _add(c: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS
        rule = _PathBeneath(rights, fd)
        c.syscall(SYS_ADD_RULE, ctypes.c_int(ruleset), ctypes.c_int(RULE_PATH_BENEATH), ctypes.byref(rule),
                  ctypes.c_uint32(0))
    finally:
        os.close(fd)
