"""Start multiprocessing's forkserver and resource tracker as forks of this process.

`grade FILE` does, first thing (`warm.warm_up(fork=True)`): no interpreter's start-up before the
warm parent's torch import (about 60 ms here, more with slow `.pth` files), nor the tracker's
start-up and shutdown. Each fork becomes what multiprocessing's `python -c ...` would be: only
its own descriptors, none of the judge's exit handlers, a bare `__main__`. Linux only, and only
in a process with one thread and the multiprocessing this was written for (3.11-3.13).
"""
from __future__ import annotations

import atexit
import os
import sys
import threading
import types
from typing import Any

_FORKS = sys.platform.startswith("linux") and os.path.isdir("/proc/self/fd")  # where warm forks itself
# what multiprocessing's ForkServer holds in the Pythons this fork of it was written for (3.11-3.13)
_SERVER_FIELDS = {"_forkserver_address", "_forkserver_alive_fd", "_forkserver_pid", "_inherited_fds", "_lock",
                  "_preload_modules"}


def start_server(server: Any) -> bool:
    """Start multiprocessing's forkserver as a fork of this process instead of a new interpreter.

    What `ForkServer.ensure_running` does (a listening socket in multiprocessing's temp folder,
    an "alive" pipe the server watches for the judge's exit), with `os.fork` for its spawn: the
    warm parent starts its torch import without an interpreter's start-up first (about 60 ms
    here, more with slow `.pth` files). False, and nothing started, where that is not safe: a
    thread running (a fork copies its locks held), a multiprocessing whose forkserver differs."""
    import socket

    from multiprocessing import connection

    if set(vars(server)) != _SERVER_FIELDS or threading.active_count() > 1 or not _FORKS:
        return False
    address = connection.arbitrary_address("AF_UNIX")  # type: ignore[attr-defined]
    with socket.socket(socket.AF_UNIX) as listener:
        listener.bind(address)
        os.chmod(address, 0o600)
        listener.listen()
        alive_r, alive_w = os.pipe()
        fd, preload = listener.fileno(), list(server._preload_modules)
        pid = _fork(lambda: _serve(fd, alive_r, preload))
        os.close(alive_r)
    server._forkserver_address, server._forkserver_alive_fd, server._forkserver_pid = address, alive_w, pid
    return True


def start_tracker() -> bool:
    """Start multiprocessing's resource tracker as a fork of this process, after the warm
    parent's (which so holds none of its pipe): no interpreter's start-up (CPU beside the
    judge's own imports) nor shutdown (on the way out of every grade). False where unsafe."""
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker  # type: ignore[attr-defined]
    if getattr(tracker, "_fd", 0) is not None or not {"_lock", "_fd", "_pid"} <= set(vars(tracker)) \
            or set(vars(tracker)) - {"_lock", "_fd", "_pid", "_exitcode"} or threading.active_count() > 1 \
            or not _FORKS:
        return False
    r, w = os.pipe()
    pid = _fork(lambda: _in_fork(lambda: resource_tracker.main(r), {0, 1, 2, r}))
    os.close(r)
    tracker._fd, tracker._pid = w, pid
    return True


def _fork(child: Any) -> int:
    """Fork, the judge's buffered output written first (or the child would write it again);
    the child runs `child`, which never returns. The child's pid."""
    for stream in (sys.stdout, sys.stderr):
        _flush(stream)
    pid = os.fork()
    if pid == 0:
        child()
    return pid


def _in_fork(body: Any, keep: set[int]) -> None:
    """Run `body` as the whole of this forked process: only the descriptors in `keep`, none of
    the judge's exit handlers, a bare `__main__`; then leave without an interpreter shutdown,
    after the exit handlers `body` registered (the forkserver's: kill what is left)."""
    code = 1
    try:
        close_all_but(keep)
        atexit._clear()
        sys.stdin, sys.stdout, sys.stderr = sys.__stdin__, sys.__stdout__, sys.__stderr__  # not a caller's redirection
        sys.argv[:] = ["-c"]
        sys.modules["__main__"] = types.ModuleType("__main__")
        body()
        code = 0
    except SystemExit as exc:  # the forkserver's way out once the judge is gone (the alive pipe's end)
        code = exc.code if isinstance(exc.code, int) else 0
    except BaseException:  # noqa: BLE001 - nothing of the judge's may run on in this process
        pass
    finally:
        try:
            atexit._run_exitfuncs()
        finally:
            os._exit(code)


def _serve(listener_fd: int, alive_r: int, preload: list[str]) -> None:
    """In the fork: become what `python -c "from multiprocessing.forkserver import main; ..."`
    would be, and run its loop."""
    from multiprocessing import forkserver

    _in_fork(lambda: forkserver.main(listener_fd, alive_r, preload), {0, 1, 2, listener_fd, alive_r})


def close_all_but(keep: set[int]) -> None:
    """Close every descriptor of this process not in `keep` (those /proc lists: an
    `os.closerange` up to the limit is a loop of a billion closes where the limit is that high,
    and an empty one, `closerange(n, n)`, closes them all on Linux)."""
    for name in os.listdir("/proc/self/fd"):  # the listing's own descriptor is closed by then: EBADF
        fd = int(name)
        if fd not in keep:
            try:
                os.close(fd)
            except OSError:
                pass


def _flush(stream: Any) -> None:
    try:
        stream.flush()
    except (OSError, ValueError, AttributeError):
        pass
