"""A running worker process, seen from the judge: its pipes, its clock, and its death.

A worker is killed with everything it made (its cgroup, its descendants through /proc, its
process group); the forkserver's orphans that belong to no live worker are swept up after.
"""
from __future__ import annotations

import atexit
import os
import pickle
import signal
import threading
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from grader.containment import cgroups
from grader.containment import isolation
from grader.containment import reaper
from grader.protocol import wire
from grader.protocol.jobs import Task, Unit

from grader.sandbox.warm import bare_main, context

# A task handed over ahead of its turn (`send_ahead`) goes in one write of at most PIPE_BUF
# bytes, length prefix included: atomic (whole or nothing), and two such never fill a default pipe.
AHEAD_BYTES = 4096 - 4
LIVE: set[int] = set()  # pids of this judge's workers that are running now
LIVE_LOCK = threading.Lock()
_LATER: list[tuple[Callable[..., Any], tuple[Any, ...]]] | None = None  # cleanup held back (`hold_cleanup`)


def hold_cleanup() -> None:
    """From now on a run's workers are killed, and its folders removed, when `cleanup()` is
    called rather than before the run returns (`grade --watch` prints the report first)."""
    global _LATER
    if _LATER is None:
        _LATER = []
        atexit.register(cleanup)


def cleanup_held() -> bool:
    """Whether `hold_cleanup` is in force."""
    return _LATER is not None


def later(fn: Callable[..., Any], *args: Any) -> None:
    """`fn(*args)` now, or at the next `cleanup()` while cleanup is held."""
    if _LATER is None:
        fn(*args)
    else:
        _LATER.append((fn, args))


def cleanup() -> None:
    """Run the cleanup held back so far (every worker killed and waited for, folders removed)."""
    while _LATER:
        fn, args = _LATER.pop(0)
        fn(*args)


@dataclass
class Worker:
    """One worker process and the judge's ends of its pipes."""

    process: Any
    conn: Any
    group: cgroups.Group | None = None
    # kill descendants through /proc, and orphans under the forkserver ("subreaper", judge side)
    reap: bool = field(default_factory=lambda: "subreaper" not in isolation.disabled_by_test())
    started: float = field(default_factory=time.monotonic)
    tasks: Any = None  # the judge's end of the pipe that carries each task's inputs when it starts
    received: int = 0  # bytes of answers read from this worker
    closed: bool = False
    done: bool = False  # every task it was given is answered (set by the run)
    last_small: bool = False  # the last task handed over fits one atomic write (`AHEAD_BYTES`)
    same: dict[int, int] = field(default_factory=dict)  # a task left out -> its equal twin that runs (`same_tasks`)


    def receive(self, deadline: float, cap: int = wire.MAX_MESSAGE_BYTES) -> tuple[wire.Message | None, str, str]:
        """The next whole message, read before `deadline`: (message, problem, detail).

        The deadline covers the whole frame; more than `cap` bytes is refused as it arrives.
        """
        if self.closed:
            return None, "crash", "the worker was already stopped"
        try:
            data = wire.read_frame(self.conn.fileno(), deadline, min(cap, wire.MAX_MESSAGE_BYTES),
                                   self.process.sentinel)
        except wire.Stalled:
            return None, "timeout", ""
        except wire.Closed:
            return None, "crash", self.death()
        except wire.WireError as exc:
            return None, "protocol", str(exc)
        self.received += len(data)
        try:
            return wire.decode(data), "", ""
        except wire.WireError as exc:
            return None, "protocol", str(exc)

    def send(self, task: Task | tuple[Unit, ...], deadline: float) -> str:
        """Hand one task (or a spare its submission) to the worker, before `deadline`; "" or the
        problem ("timeout", "crash")."""
        if self.tasks is None or self.closed:
            return "crash"
        data = pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL)
        self.last_small = len(data) <= AHEAD_BYTES
        try:
            wire.write_frame(self.tasks.fileno(), data, deadline)
        except wire.Stalled:
            return "timeout"
        except wire.Closed:
            return "crash"
        return ""

    def send_ahead(self, task: Task) -> bool:
        """Hand `task` over while the last one still runs, so the worker starts it the moment it
        answers (no round trip through the judge). Only a small task after a small one: the
        pipe then holds at most those two frames, and this write never blocks. False: not sent
        (it goes at its turn, by `send`)."""
        if self.tasks is None or self.closed or not self.last_small:
            return False
        if sum(a.nbytes for a in task.arrays.values()) > AHEAD_BYTES:
            return False
        data = pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL)
        if len(data) > AHEAD_BYTES:
            return False
        try:  # one write of at most PIPE_BUF bytes: whole or, where the pipe is full, not at all and at once
            wire.write_frame(self.tasks.fileno(), data, time.monotonic())
        except (wire.Stalled, wire.Closed):  # a pipe the worker shrank, or a dead worker: the next receive says which
            return False
        self.last_small = True
        return True

    def __enter__(self) -> "Worker":
        return self

    def __exit__(self, *exc: Any) -> None:
        if self.done and exc[0] is None:
            self.halt()  # it answered everything: killed now, its teardown runs while the judge decides
            later(self.kill)  # and waited for after the report (`hold_cleanup`)
        else:
            self.kill()

    def clock(self) -> float:
        """The worker tree's CPU seconds (its cgroup's count), or the wall clock without one."""
        used = cgroups.cpu_seconds(self.group)
        return time.monotonic() if used is None else used

    def death(self) -> str:
        self.process.join(1)
        code = self.process.exitcode
        if code is None:
            return "the worker stopped answering"
        if code < 0:
            try:
                return f"the process was killed by {signal.Signals(-code).name}"
            except ValueError:
                return f"the process was killed by signal {-code}"
        return f"the process exited with status {code}"

    def stop(self) -> None:
        """SIGKILL the worker process alone and leave its pipes open: for a worker with no
        descendants (the reference) that a thread of the judge reads from, which then sees
        the pipe close and frees the worker (`kill`)."""
        if not self.closed:
            try:
                self.process.kill()
            except Exception:  # already gone
                pass

    def halt(self) -> None:
        """SIGKILL the worker, its process group and its cgroup once, without waiting (`kill`
        then waits for them and removes what they left)."""
        if self.closed or self.process.pid is None:
            return
        if self.group is not None:
            cgroups.signal_all(self.group)
        self._signal_process()

    def _signal_process(self) -> None:
        """SIGKILL the worker's process group (it is its leader) and the process itself."""
        if self.process.pid is not None and hasattr(os, "killpg"):
            try:
                os.killpg(self.process.pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.process.kill()
        except Exception:  # already gone
            pass

    def kill(self) -> None:
        """SIGKILL the worker and every descendant it made, wherever they went (once; idempotent)."""
        if self.closed:
            return
        self.closed = True
        pid = self.process.pid
        if self.group is not None:
            cgroups.kill(self.group)
        if pid is not None and self.reap:
            reaper.kill_descendants(pid)
        self._signal_process()
        self.process.join(5)
        self.conn.close()
        if self.tasks is not None:
            self.tasks.close()
        with LIVE_LOCK:
            LIVE.discard(pid)
        if self.group is not None:
            cgroups.kill(self.group)
            cgroups.remove(self.group)
        if self.reap:
            sweep()


def sweep() -> None:
    """Kill the forkserver's descendants that belong to no running worker (escaped orphans).

    The forkserver is a subreaper: its whole tree is emptied, round after round, so that an
    orphan re-parented to it while we look (a daemon's middle process exiting) is found too."""
    pid = forkserver_pid()
    if pid is None:
        return
    with LIVE_LOCK:  # no worker starts while we look
        reaper.kill_descendants(pid, spare=frozenset(LIVE))


def launch(proc: Any) -> None:
    """Start a worker process and record it as live, atomically with respect to `sweep`."""
    with LIVE_LOCK, bare_main():
        proc.start()
        LIVE.add(proc.pid)
    if proc.pid is not None:
        cgroups.prime()  # the next cgroup join (this worker's, or the student's after the reference) comes soon


def forkserver_pid() -> int | None:
    if context().get_start_method() != "forkserver":
        return None
    from multiprocessing import forkserver

    return getattr(forkserver._forkserver, "_forkserver_pid", None)  # type: ignore[attr-defined]
