"""Start the warm parent (a preloaded forkserver) as early as possible.

Kept free of numpy and of the rest of the grader, so that `grade` can start the forkserver's
torch import before it imports anything else.
"""
from __future__ import annotations

import atexit
import multiprocessing as mp
import os
import signal
import sys
import tempfile
import threading
import types
from contextlib import contextmanager
from typing import Any, Iterator

# grader.worker.student also imports the active course's probe modules (`probes.load_extensions`:
# the course comes from GRADER_COURSE, which --course sets before this parent starts).
# numpy.random: numpy imports it lazily, and every worker seeds it (10 ms each, once here);
# the entry module and multiprocessing's forkserver Popen: every worker imports them when it
# unpickles its process object (about 1.3 ms and 250 copied pages each, once here)
PRELOAD = ["grader.worker.student", "grader.worker.reference", "numpy.random", "grader.sandbox.entry",
           "multiprocessing.popen_forkserver"]
NOTEBOOK_PRELOAD = ["IPython.core.interactiveshell", "IPython.core.completerlib", "grader.sandbox.notebook_shell"]
# imported first and last by the forkserver: garbage collection off while it imports, frozen after;
# HINTS just before LAST: what the judge asked for since (`warm_hints`)
FIRST, HINTS, LAST = "grader.sandbox.forkserver_init", "grader.sandbox.forkserver_hints", "grader.sandbox.forkserver_ready"
_CONTEXT: Any = None
# The forkserver's socket lives in multiprocessing's temp dir: sun_path holds 107 bytes, so a
# long TMPDIR would make every grade fail. Past this length a short base is used instead.
MAX_TEMP_BASE = 48
SHORT_BASES = ("/tmp", "/var/tmp", "/dev/shm")


def context(notebooks: bool = True) -> Any:
    """The multiprocessing context for workers: a preloaded forkserver where possible.

    `notebooks` also preloads IPython (0.6 s more for the warm parent, none per notebook);
    it only matters for the call that starts the forkserver.
    """
    global _CONTEXT
    if _CONTEXT is None:
        if "forkserver" in mp.get_all_start_methods():
            _CONTEXT = mp.get_context("forkserver")
            _CONTEXT.set_forkserver_preload(preloads(notebooks))
        else:  # Windows (and any platform without fork): a fresh interpreter per worker
            _CONTEXT = mp.get_context("spawn")
    return _CONTEXT


def preloads(notebooks: bool) -> list[str]:
    """What the forkserver imports, in order."""
    return [FIRST, *PRELOAD, *(NOTEBOOK_PRELOAD if notebooks else []), HINTS, LAST]


_MAIN_LOCK = threading.Lock()


@contextmanager
def bare_main() -> Iterator[None]:
    """Hide the judge's `__main__` while starting processes.

    multiprocessing would otherwise re-run the judge's main script (or pytest's) in each
    worker before the target: slow, and not code a worker should run.
    """
    with _MAIN_LOCK:
        saved = sys.modules.get("__main__")
        sys.modules["__main__"] = types.ModuleType("__main__")
        try:
            yield
        finally:
            if saved is not None:
                sys.modules["__main__"] = saved


def short_temp_dir() -> None:
    """Give multiprocessing a temp dir whose socket paths fit, whatever TMPDIR's length."""
    from multiprocessing import process, util

    config = process.current_process()._config  # type: ignore[attr-defined]
    if config.get("tempdir") is not None or len(tempfile.gettempdir()) <= MAX_TEMP_BASE:
        return
    for base in SHORT_BASES:
        if os.path.isdir(base) and os.access(base, os.W_OK | os.X_OK):
            import shutil

            tempdir = tempfile.mkdtemp(prefix="pymp-", dir=base)
            util.Finalize(None, util._remove_temp_dir, args=(shutil.rmtree, tempdir),  # type: ignore[attr-defined]
                          exitpriority=-100)
            config["tempdir"] = tempdir
            return


def safe_spawns() -> None:
    """Every Python that multiprocessing starts from this process (the forkserver, the resource
    tracker, Dask's spawned workers) leaves the current directory off its sys.path.

    They run `python -c ...`, which puts the current directory first: a `numpy.py`, `socket.py`
    or `multiprocessing/` in the folder `grade` runs from (a student's, a class's) would run,
    unconfined, in the warm parent. multiprocessing passes on the judge's own interpreter flags;
    this adds `-P` (Python 3.11+) to them. A spawned child's sys.path is the parent's anyway once
    it has started (multiprocessing's preparation data); only its bootstrap imports change."""
    from multiprocessing import util

    real = util._args_from_interpreter_flags  # type: ignore[attr-defined]
    if getattr(real, "grader_safe", False):
        return

    def flags() -> list[str]:
        args = real()
        return args if "-P" in args or "-I" in args else [*args, "-P"]

    flags.grader_safe = True  # type: ignore[attr-defined]
    util._args_from_interpreter_flags = flags  # type: ignore[attr-defined]


_STOPPER_REGISTERED = False


@contextmanager
def _tracker_later() -> Iterator[None]:
    """multiprocessing starts its resource tracker (a Python process of its own) before the
    forkserver; hold it back until the forkserver is spawned (workers get its descriptor at
    their start, by when it runs)."""
    from multiprocessing import resource_tracker

    real = resource_tracker.ensure_running
    resource_tracker.ensure_running = lambda: None  # type: ignore[assignment]
    try:
        yield
    finally:
        resource_tracker.ensure_running = real  # type: ignore[assignment]


def warm_up(notebooks: bool = True, fork: bool = False) -> None:
    """Start the forkserver now, so its imports overlap with the judge's own work.

    `fork`: start it (and the resource tracker) as forks of this process (`warm_fork`) where safe; the caller
    promises nothing in it yet would be wrong in the warm parent (`grade FILE` at its start). A
    running warm parent asked for `notebooks` that it was not started with is asked to preload
    IPython too (`warm_hints`)."""
    global _STOPPER_REGISTERED
    ctx = context(notebooks)
    if ctx.get_start_method() == "forkserver":
        from multiprocessing import forkserver

        from grader.sandbox import warm_fork, warm_hints

        short_temp_dir()
        server = forkserver._forkserver  # type: ignore[attr-defined]
        spawning = getattr(server, "_forkserver_pid", None) is None
        if notebooks and NOTEBOOK_PRELOAD[-1] not in server._preload_modules:
            for module in NOTEBOOK_PRELOAD:
                warm_hints.ask(module)
        safe_spawns()
        with warm_hints.offered(spawning):
            if not (spawning and fork and warm_fork.start_server(server)):
                with bare_main(), _tracker_later():
                    forkserver.ensure_running()
        from multiprocessing import resource_tracker

        if not (fork and warm_fork.start_tracker()):
            resource_tracker.ensure_running()  # after the forkserver's spawn: its torch import starts first
        if not _STOPPER_REGISTERED:
            _STOPPER_REGISTERED = True
            atexit.register(shut_down)  # runs before multiprocessing's own exit handler


_ONE_SHOT: list[bool] = []


def one_shot() -> None:
    """This process grades once, then exits (`grade FILE`): the warm parent is let go as soon
    as the grade's workers are done (`finished`), so its teardown runs while the judge decides
    and reports instead of after."""
    _ONE_SHOT[:] = [True]


def finished() -> None:
    """The judge's grade needs no worker any more: in a one-shot process, kill the warm parent
    and what it still has now; `shut_down`, at exit, waits for them."""
    if not _ONE_SHOT or context().get_start_method() != "forkserver":
        return
    from multiprocessing import forkserver

    from grader.containment import reaper

    pid = getattr(forkserver._forkserver, "_forkserver_pid", None)  # type: ignore[attr-defined]
    if pid:
        reaper.kill_descendants(pid)  # first: once the forkserver is gone, its orphans go to init
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    _let_tracker_go()


_LEFT_TRACKERS: list[int] = []  # resource trackers let go of, to be waited for at exit


def _let_tracker_go() -> None:
    """Close this process's end of the resource tracker's pipe: it exits (its interpreter's
    shutdown, ~20-40 ms) once the killed forkserver and workers have let go of theirs, while
    the judge decides; `shut_down` waits for it. Nothing in the judge registers a resource."""
    from multiprocessing import resource_tracker

    tracker = resource_tracker._resource_tracker  # type: ignore[attr-defined]
    fd, pid = getattr(tracker, "_fd", None), getattr(tracker, "_pid", None)
    if fd is None or not pid:
        return
    with tracker._lock:
        tracker._fd = tracker._pid = None
        _LEFT_TRACKERS.append(pid)
        try:
            os.close(fd)
        except OSError:
            pass


def _wait_for_left_trackers() -> None:
    while _LEFT_TRACKERS:
        try:
            os.waitpid(_LEFT_TRACKERS.pop(), 0)
        except (OSError, ChildProcessError):
            pass


def shut_down() -> None:
    """Kill the forkserver, whatever it still has, and the resource tracker; wait for them.

    So that when `grade` returns, nothing it started is left. SIGKILL, not the forkserver's
    own slow interpreter exit: its descendants are killed here first. The two end side by
    side: the tracker's own exit (~13 ms) runs while the kernel tears the forkserver down.
    """
    from multiprocessing import forkserver, resource_tracker

    from grader.containment import reaper

    server = forkserver._forkserver  # type: ignore[attr-defined]
    pid = getattr(server, "_forkserver_pid", None)
    if pid:
        reaper.kill_descendants(pid)
        try:
            os.kill(pid, signal.SIGKILL)
        except OSError:
            pass
    tracker = resource_tracker._resource_tracker  # type: ignore[attr-defined]
    try:
        if getattr(tracker, "_fd", None) is not None and getattr(tracker, "_pid", None) is not None:
            tracker._stop()  # it exits once every copy of its pipe is closed (the forkserver's too)
        # (no pid: a spawned process's copy of its parent's tracker pipe, the parent's to stop)
    except (OSError, ChildProcessError):
        pass
    _wait_for_left_trackers()
    if pid:
        try:
            server._stop()
        except (OSError, ChildProcessError):  # reaped already
            server._forkserver_pid = server._forkserver_alive_fd = None
