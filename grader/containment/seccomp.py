"""A small seccomp filter (Linux x86_64 and arm64): no new sockets of any family, no ptrace,
no reading other processes' memory, no io_uring (which could open sockets past the filter).

The worker needs no socket (its pipe to the judge is a pipe). Unix sockets are how a
same-user process could reach the forkserver (which would fork it an unconfined process) or
a system daemon, and pathname sockets are not covered by Landlock; vsock reaches the host
of a VM past any network namespace; netlink and packet sockets talk to the kernel's network
stack; inet sockets are refused too, so UDP is closed even without a network namespace.
`socketpair` stays allowed: it makes a connected pair that reaches nothing else.
"""
from __future__ import annotations

import ctypes
import platform

from grader.containment.namespaces import libc

PR_SET_NO_NEW_PRIVS, PR_SET_SECCOMP, SECCOMP_MODE_FILTER = 38, 22, 2
RET_ALLOW, RET_ERRNO, EPERM = 0x7FFF0000, 0x00050000, 1
LD_W_ABS, JEQ_K, JGE_K, RET_K = 0x20, 0x15, 0x35, 0x06

# arch -> (AUDIT_ARCH, socket, [blocked syscalls])
ARCHES = {
    "x86_64": (0xC000003E, 41, [101, 310, 311, 425, 426, 427]),   # ptrace, process_vm_*, io_uring_*
    "aarch64": (0xC00000B7, 198, [117, 270, 271, 425, 426, 427]),
}


class _Filter(ctypes.Structure):
    _fields_ = [("code", ctypes.c_uint16), ("jt", ctypes.c_uint8), ("jf", ctypes.c_uint8), ("k", ctypes.c_uint32)]


class _Prog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_uint16), ("filter", ctypes.POINTER(_Filter))]


def program(arch: str) -> list[tuple[int, int, int, int]]:
    """The BPF program for `arch` as (code, jt, jf, k) rows."""
    audit, socket_nr, blocked = ARCHES[arch]
    deny = RET_ERRNO | EPERM
    rows: list[tuple[int, int, int, int]] = [(LD_W_ABS, 0, 0, 4)]
    rows.append((JEQ_K, 1, 0, audit))                 # our arch: go on
    rows.append((RET_K, 0, 0, deny))                  # another ABI (e.g. i386 on x86_64): refuse all
    rows.append((LD_W_ABS, 0, 0, 0))                  # syscall number
    if arch == "x86_64":
        rows.append((JGE_K, 0, 1, 0x40000000))        # x32 numbers
        rows.append((RET_K, 0, 0, deny))
    for nr in blocked:
        rows.append((JEQ_K, 0, 1, nr))
        rows.append((RET_K, 0, 0, deny))
    rows.append((JEQ_K, 0, 1, socket_nr))             # socket(2), whatever the family
    rows.append((RET_K, 0, 0, deny))
    rows.append((RET_K, 0, 0, RET_ALLOW))
    return rows


def install() -> bool:
    """Install the filter on this process and its future children."""
    c = libc()
    arch = platform.machine()
    if c is None or arch not in ARCHES:
        return False
    rows = program(arch)
    filters = (_Filter * len(rows))(*[_Filter(*r) for r in rows])
    prog = _Prog(len(rows), filters)
    if c.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return False
    return c.prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(prog), 0, 0) == 0
