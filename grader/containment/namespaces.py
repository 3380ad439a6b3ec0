"""Linux namespaces through ctypes (Python 3.11 has no `os.unshare`), for the forked worker.

Everything here is a no-op returning False on other systems. Nothing needs root: an
unprivileged user namespace gives the capabilities needed for the others.
"""
from __future__ import annotations

import ctypes
import errno
import os
import socket
import struct
import sys

CLONE_NEWNS = 0x00020000
CLONE_NEWUTS = 0x04000000
CLONE_NEWIPC = 0x08000000
CLONE_NEWUSER = 0x10000000
CLONE_NEWPID = 0x20000000
CLONE_NEWNET = 0x40000000

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND, MS_REC, MS_PRIVATE = 32, 4096, 0x4000, 1 << 18

FLAGS = {"userns": CLONE_NEWUSER, "mntns": CLONE_NEWNS, "pidns": CLONE_NEWPID, "netns": CLONE_NEWNET,
         "ipcns": CLONE_NEWIPC, "utsns": CLONE_NEWUTS}
DEVICES = ("null", "zero", "full", "random", "urandom")  # all a worker's private /dev holds

LINUX = sys.platform.startswith("linux")
_LIBC: ctypes.CDLL | None = None


def libc() -> ctypes.CDLL | None:
    """The C library with errno, or None off Linux."""
    global _LIBC
    if _LIBC is None and LINUX:
        try:
            _LIBC = ctypes.CDLL(None, use_errno=True)
        except OSError:
            return None
    return _LIBC


def unshare(flags: int) -> int:
    """unshare(2): 0, or the errno."""
    c = libc()
    if c is None:
        return errno.ENOSYS
    return 0 if c.unshare(ctypes.c_int(flags)) == 0 else ctypes.get_errno()


def _write(path: str, text: str) -> None:
    with open(path, "w") as fh:
        fh.write(text)


def map_ids(uid: int, gid: int) -> bool:
    """Map our outside ids to the same ids inside a fresh user namespace."""
    try:
        try:
            _write("/proc/self/setgroups", "deny")
        except FileNotFoundError:
            pass
        _write("/proc/self/uid_map", f"{uid} {uid} 1")
        _write("/proc/self/gid_map", f"{gid} {gid} 1")
        return True
    except OSError:
        return False


def enter(wanted: tuple[str, ...]) -> tuple[str, ...]:
    """Create the wanted namespaces in one unshare; degrade to fewer if refused.

    Returns the names of the namespaces now in effect. `pidns` applies to children only:
    the caller must fork next.
    """
    if not LINUX or not wanted:
        return ()
    uid, gid = os.getuid(), os.getgid()
    tries = [tuple(wanted)]
    if "userns" in wanted and uid == 0:
        tries.append(tuple(w for w in wanted if w != "userns"))  # root needs no user namespace
    if "userns" in wanted:
        tries.append(("userns", "netns"))  # e.g. AppArmor allows the user namespace only
    for names in tries:
        flags = 0
        for name in names:
            flags |= FLAGS[name]
        if unshare(flags) == 0:
            if "userns" in names and not map_ids(uid, gid):
                return ()  # a user namespace without maps: do not count on anything
            return names
    return ()


def make_mounts_private() -> bool:
    """Stop mount events from propagating back to the host (after CLONE_NEWNS)."""
    c = libc()
    return bool(c) and c.mount(b"none", b"/", None, ctypes.c_ulong(MS_REC | MS_PRIVATE), None) == 0


def mount_tmpfs(path: str, size_bytes: int, mode: int = 0o700) -> bool:
    """Mount a size-capped tmpfs on `path` (hides what was there)."""
    c = libc()
    if c is None or not os.path.isdir(path):
        return False
    opts = f"size={max(4096, size_bytes)},mode={mode:o}".encode()
    flags = MS_NOSUID | MS_NODEV
    return c.mount(b"tmpfs", path.encode(), b"tmpfs", ctypes.c_ulong(flags), opts) == 0


def mount_quota(box: str, size_bytes: int) -> str | None:
    """One size-capped tmpfs over the box's parent (the judge's private run folder), holding
    a fresh `box` and the worker's `shm`: both count against the same quota.

    Returns the shm folder, or None when nothing was mounted. The judge's files in that
    folder (the output log, opened already) disappear from the worker's view only.
    """
    parent = os.path.dirname(os.path.abspath(box))
    if not mount_tmpfs(parent, size_bytes):
        return None
    shm = os.path.join(parent, "shm")
    try:
        os.mkdir(box, 0o700)
        os.mkdir(shm)
        os.chmod(shm, 0o1777)
    except OSError:
        return None
    return shm


def _bind(source: str, target: str) -> bool:
    c = libc()
    return bool(c) and c.mount(source.encode(), target.encode(), None, ctypes.c_ulong(MS_BIND), None) == 0


def private_dev(extra: tuple[str, ...], shm: str | None, size_bytes: int) -> bool:
    """Replace /dev with a tmpfs holding only DEVICES (and `extra`, e.g. GPU nodes), bound
    from the real ones, the usual /proc/self/fd links, a private `shm` and a private `pts`.

    `shm` is bound from the box quota when given; otherwise /dev/shm lives on the new /dev,
    capped at `size_bytes`. Without `shm` given, /dev stays writable (for /dev/shm).
    """
    names = [f"/dev/{n}" for n in DEVICES] + [p for p in extra if p.startswith("/dev/")]
    fds: dict[str, int] = {}
    try:
        for path in names:
            try:
                fds[path] = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                if path in extra:
                    continue
                return False
        if not mount_tmpfs("/dev", size_bytes if shm is None else 65536, 0o755):
            return False
        for path, fd in fds.items():
            os.makedirs(os.path.dirname(path), exist_ok=True)
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY | os.O_CLOEXEC, 0o600))
            if not _bind(f"/proc/self/fd/{fd}", path):
                return False
        for name, target in (("fd", "/proc/self/fd"), ("stdin", "/proc/self/fd/0"),
                             ("stdout", "/proc/self/fd/1"), ("stderr", "/proc/self/fd/2")):
            os.symlink(target, f"/dev/{name}")
        os.mkdir("/dev/shm")
        os.chmod("/dev/shm", 0o1777)
        _private_ptys()
        if shm is not None:
            if not _bind(shm, "/dev/shm"):
                return False
            c = libc()
            flags = MS_REMOUNT | MS_BIND | MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC
            if c is None or c.mount(None, b"/dev", None, ctypes.c_ulong(flags), None) != 0:
                return False
        return True
    except OSError:
        return False
    finally:
        for fd in fds.values():
            os.close(fd)


def _private_ptys() -> bool:
    """A fresh devpts instance on /dev/pts: only the worker's own pseudo-terminals, none of
    the host's (IPython's `!command` runs through one)."""
    c = libc()
    os.mkdir("/dev/pts", 0o755)
    flags = ctypes.c_ulong(MS_NOSUID | MS_NOEXEC)
    if c is None or c.mount(b"devpts", b"/dev/pts", b"devpts", flags, b"newinstance,ptmxmode=0666,mode=0620") != 0:
        return False
    os.symlink("pts/ptmx", "/dev/ptmx")
    return True


def mount_proc() -> bool:
    """Mount a proc that shows only this PID namespace (needs a fresh mount namespace)."""
    c = libc()
    if c is None:
        return False
    flags = MS_NOSUID | MS_NODEV | MS_NOEXEC
    return c.mount(b"proc", b"/proc", b"proc", ctypes.c_ulong(flags), None) == 0


SIOCGIFFLAGS, SIOCSIFFLAGS, IFF_UP = 0x8913, 0x8914, 0x1


def loopback_up() -> bool:
    """Bring `lo` up (it starts down in a new network namespace); a Jupyter kernel needs it."""
    if not LINUX:
        return False
    import fcntl  # not on Windows

    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            req = struct.pack("16sH14x", b"lo", 0)
            flags = struct.unpack("16sH14x", fcntl.ioctl(s.fileno(), SIOCGIFFLAGS, req))[1]
            fcntl.ioctl(s.fileno(), SIOCSIFFLAGS, struct.pack("16sH14x", b"lo", flags | IFF_UP))
        return True
    except OSError:
        return False


def set_pid_max(value: int) -> bool:
    """Bound the PIDs of this PID namespace (per namespace since Linux 6.14); from inside it."""
    try:
        _write("/proc/sys/kernel/pid_max", str(value))
        return True
    except OSError:
        return False
