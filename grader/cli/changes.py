"""Being told when a file may have changed: inotify on Linux, a poll elsewhere.

`Changes(path)` watches the file's folder (editors often save by renaming a new file into
place) and `wait(timeout)` returns as soon as an event names the file: what happened to it
(`MODIFIED`, or `SAVED` when it was closed after writing or renamed into place), or 0 when the
timeout passes first. Where inotify cannot be had (another OS, no libc, a limit reached) it
returns False after the timeout, and the caller's fingerprint check is the poll. Either way the
caller decides what a change is (the content's digest): events only say when to look.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import select
import struct
import time
from pathlib import Path

IN_MODIFY, IN_CLOSE_WRITE, IN_MOVED_TO, IN_CREATE = 0x2, 0x8, 0x80, 0x100
_MASK = IN_MODIFY | IN_CLOSE_WRITE | IN_MOVED_TO | IN_CREATE
MODIFIED, SAVED = 1, 2  # what `wait` reports: written to, or closed after writing / renamed into place
_EVENT = struct.Struct("iIII")  # wd, mask, cookie, len; then `len` bytes of NUL-padded name


class Changes:
    """Events on one file, from its folder's inotify watch (or none: see the module docstring)."""

    def __init__(self, path: Path) -> None:
        self.name = os.fsencode(Path(path).name)
        self.fd = _inotify(Path(path).parent)

    @property
    def live(self) -> bool:
        """Whether events come (False: the caller only has its own polling)."""
        return self.fd is not None

    def wait(self, timeout: float) -> int:
        """What happened to the file (MODIFIED, SAVED) once an event names it before `timeout`
        seconds pass; 0 when none does."""
        if self.fd is None:
            time.sleep(timeout)
            return 0
        deadline = time.monotonic() + timeout
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0 or not select.select([self.fd], [], [], remaining)[0]:
                return 0
            found = self._drain()
            if found:
                return found

    def _drain(self) -> int:
        """Read the pending events; what the last one naming the file says (0: none names it)."""
        assert self.fd is not None
        try:
            data = os.read(self.fd, 64 * 1024)
        except BlockingIOError:
            return 0
        except OSError:
            self.close()
            return 0
        found, at = 0, 0
        while at + _EVENT.size <= len(data):
            _wd, mask, _cookie, size = _EVENT.unpack_from(data, at)
            name = data[at + _EVENT.size:at + _EVENT.size + size].rstrip(b"\0")
            if name == self.name:
                found = SAVED if mask & (IN_CLOSE_WRITE | IN_MOVED_TO) else MODIFIED
            at += _EVENT.size + size
        return found

    def close(self) -> None:
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def __enter__(self) -> Changes:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _inotify(folder: Path) -> int | None:
    """An inotify descriptor watching `folder` (non-blocking, close-on-exec), or None."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or None, use_errno=True)
        init, add = libc.inotify_init1, libc.inotify_add_watch
    except (OSError, AttributeError):
        return None
    fd = init(os.O_NONBLOCK | os.O_CLOEXEC)
    if fd < 0:
        return None
    if add(fd, os.fsencode(folder), _MASK) < 0:
        os.close(fd)
        return None
    return fd
