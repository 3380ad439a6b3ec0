"""Judge side of the process boundary: start warm workers, enforce deadlines, collect answers.

Workers are forked from a forkserver that has imported numpy, torch and the worker code
and has done nothing else. Deadlines are enforced from here with SIGKILL. A task that hangs
costs its function's remaining checks; a worker that dies costs its current task; the rest
run in a fresh worker.
"""
from __future__ import annotations

import glob
import multiprocessing as mp
import os
import shutil
import signal
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from multiprocessing.connection import wait
from pathlib import Path
from typing import Any

from . import cgroups, isolation, reaper, wire
from .errors import GraderBug, UsageError
from .jobs import Limits, Task, Unit, WorkerJob

from .warm import NOTEBOOK_PRELOAD, PRELOAD, bare_main, context, warm_up  # noqa: F401 (re-exported)

MAX_RESTARTS = 8
OUTPUT_CAP = 16 * 1024


@dataclass(frozen=True)
class TaskOutcome:
    """What became of one task: a validated message, or why there is none."""

    message: wire.Message | None = None
    problem: str = ""  # "timeout", "crash", "protocol", "skipped", "load"
    detail: str = ""
    # from the previous answer (or "loaded") to this one: the worker tree's CPU time where
    # its cgroup counts it (immune to neighbours), else the judge's wall clock
    seconds: float = 0.0


@dataclass(frozen=True)
class RunOutcome:
    """Everything the judge learns from running one submission's tasks."""

    outcomes: dict[int, TaskOutcome]
    load_errors: tuple[dict[str, Any], ...] = ()
    load_problem: str = ""
    output: str = ""
    layers: tuple[str, ...] = ()
    seconds: float = 0.0
    unit_outputs: tuple[str, ...] = ()  # what each unit printed while loading, in order


_LIVE: set[int] = set()  # pids of this judge's workers that are running now
_LIVE_LOCK = threading.Lock()


@dataclass
class _Worker:
    process: Any
    conn: Any
    group: cgroups.Group | None = None
    # kill descendants through /proc, and orphans under the forkserver ("subreaper", judge side)
    reap: bool = field(default_factory=lambda: "subreaper" not in isolation.disabled_by_test())
    started: float = field(default_factory=time.monotonic)


    def receive(self, deadline: float) -> tuple[wire.Message | None, str, str]:
        """Wait for the next message until `deadline`: (message, problem, detail)."""
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None, "timeout", ""
        ready = wait([self.conn, self.process.sentinel], timeout=remaining)
        if self.conn in ready or (ready and self.conn.poll(0)):
            try:
                data = self.conn.recv_bytes(wire.MAX_MESSAGE_BYTES)
            except EOFError:
                return None, "crash", self._death()
            except OSError as exc:
                return None, "protocol", f"unreadable answer ({exc.__class__.__name__})"
            try:
                return wire.decode(data), "", ""
            except wire.WireError as exc:
                return None, "protocol", str(exc)
        if ready:
            return None, "crash", self._death()
        return None, "timeout", ""

    def clock(self) -> float:
        """The worker tree's CPU seconds (its cgroup's count), or the wall clock without one."""
        used = cgroups.cpu_seconds(self.group)
        return time.monotonic() if used is None else used

    def _death(self) -> str:
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

    def kill(self) -> None:
        """SIGKILL the worker and every descendant it made, wherever they went."""
        pid = self.process.pid
        if self.group is not None:
            cgroups.kill(self.group)
        if pid is not None and self.reap:
            reaper.kill_descendants(pid)
        if pid is not None and hasattr(os, "killpg"):
            try:
                os.killpg(pid, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass
        try:
            self.process.kill()
        except Exception:  # already gone
            pass
        self.process.join(5)
        self.conn.close()
        with _LIVE_LOCK:
            _LIVE.discard(pid)
        if self.group is not None:
            cgroups.kill(self.group)
            cgroups.remove(self.group)
        if self.reap:
            _sweep()


def _sweep() -> None:
    """Kill the forkserver's descendants that belong to no running worker (escaped orphans)."""
    pid = _forkserver_pid()
    if pid is None:
        return
    with _LIVE_LOCK:  # no worker starts while we look
        table = reaper.parents()
        for child in [p for p, parent in table.items() if parent == pid and p not in _LIVE]:
            reaper.kill_descendants(child)
            try:
                os.kill(child, signal.SIGKILL)
            except (ProcessLookupError, PermissionError):
                pass


def _launch(proc: Any) -> None:
    """Start a worker process and record it as live, atomically with respect to `_sweep`."""
    with _LIVE_LOCK, bare_main():
        proc.start()
        _LIVE.add(proc.pid)


def _forkserver_pid() -> int | None:
    if context().get_start_method() != "forkserver":
        return None
    from multiprocessing import forkserver

    return getattr(forkserver._forkserver, "_forkserver_pid", None)  # type: ignore[attr-defined]


def start_reference(module: str, tasks: list[Task]) -> _Worker:
    """Fork the trusted reference worker (it runs while the student's worker does)."""
    from . import entry

    ctx = context()
    recv, send = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=entry.reference, args=(module, tuple(tasks), send), daemon=True)
    _launch(proc)
    send.close()
    return _Worker(proc, recv)


def reference_ready(worker: _Worker, timeout: float = 120.0) -> bool:
    """Wait for the reference worker's first message; True when CUDA is available."""
    msg, problem, detail = worker.receive(time.monotonic() + timeout)
    if msg is None or msg.header.get("type") != "ready":
        worker.kill()
        raise GraderBug(f"the reference worker did not start ({problem} {detail})".strip())
    return bool(msg.header.get("cuda"))


def collect_reference(worker: _Worker, tasks: list[Task], timeout: float) -> dict[int, wire.Message]:
    """The reference's answer to every task; any failure is the grader's bug."""
    answers: dict[int, wire.Message] = {}
    deadline = time.monotonic() + timeout
    try:
        for task in tasks:
            msg, problem, detail = worker.receive(deadline)
            if msg is None:
                raise GraderBug(f"the reference worker failed on `{task.function}` ({problem} {detail})".strip())
            if msg.header.get("type") != "answer" or msg.header.get("task") != task.id:
                raise GraderBug(f"the reference failed on `{task.function}`:\n{msg.header.get('trace', '')}")
            answers[task.id] = msg
    finally:
        worker.kill()
    return answers


def _start(units: tuple[Unit, ...], tasks: list[Task], box: str, log: str, device: str, seed: int,
           limits: Limits, stop_on_unit_error: bool, request: isolation.Request) -> _Worker:
    from . import entry

    ctx = context()
    group = None
    wanted = tuple(x for x in ("cgroup-pids", "cgroup-memory", "cgroup-cpu") if request.on(x))
    if wanted:
        group = cgroups.create(limits.processes, memory_cap(limits), wanted)
    if group is not None:
        request = replace(request, cgroup_dirs=group.dirs, cgroup_layers=group.layers)
    if device.startswith("cuda"):  # the private /dev and Landlock then let the GPU's nodes through
        request = replace(request, devices=tuple(sorted(glob.glob("/dev/nvidia*"))))
    recv, send = ctx.Pipe(duplex=False)
    job = WorkerJob(units, tuple(tasks), box, log, device, seed, limits, True, stop_on_unit_error, request)
    proc = ctx.Process(target=entry.student, args=(job, send), daemon=True)
    _launch(proc)
    send.close()
    return _Worker(proc, recv, group, reap=request.on("subreaper"))


def memory_cap(limits: Limits) -> int:
    """The cgroup's memory bound: above RLIMIT_DATA, to catch what that limit does not count."""
    return int(limits.memory_bytes * 1.25) + 256 * 1024**2


def make_request(mode: str = "best-effort") -> isolation.Request:
    """What every worker of this run is asked to apply."""
    hide = isolation.reference_dirs()
    fs_dir = isolation.forkserver_dir()
    if fs_dir:
        hide += (fs_dir,)
    return isolation.Request(disabled=isolation.disabled_by_test(), required=isolation.required(mode), hide=hide)


def default_limits(timeout: float) -> Limits:
    """The resource limits of a run with this time limit."""
    return Limits(cpu_seconds=int(timeout) + 5)


class _Deadlines:
    """Splits the time left between the functions still to run, by weight."""

    def __init__(self, end: float, order: list[str], weights: dict[str, float]) -> None:
        self.end, self.order, self.weights, self.fixed = end, order, weights, {}

    def of(self, function: str) -> float:
        if function not in self.fixed:
            now = time.monotonic()
            rest = self.order[self.order.index(function):]
            share = self.weights.get(function, 1.0) / sum(self.weights.get(f, 1.0) for f in rest)
            self.fixed[function] = now + max(0.0, self.end - now) * share
        return self.fixed[function]


def run(units: tuple[Unit, ...], tasks: list[Task], *, timeout: float, device: str, seed: int,
        weights: dict[str, float] | None = None, limits: Limits | None = None,
        stop_on_unit_error: bool = True, isolation_mode: str = "best-effort") -> RunOutcome:
    """Run every task against the submission; never raises for anything the student did.

    Raises UsageError when `isolation_mode` demands layers this machine cannot give.
    """
    t0 = time.monotonic()
    limits = limits or default_limits(timeout)
    request = make_request(isolation_mode)
    order = list(dict.fromkeys(t.function for t in tasks))
    deadlines = _Deadlines(t0 + timeout, order, weights or {})
    outcomes: dict[int, TaskOutcome] = {}
    pending = list(tasks)
    work = Path(tempfile.mkdtemp(prefix="grader-"))
    box, log = work / "box", work / "output.log"
    box.mkdir()
    load_errors: tuple[dict[str, Any], ...] = ()
    load_problem, layers, restarts, first = "", (), 0, True
    unit_outputs: tuple[str, ...] = ()
    try:
        while pending:
            worker = _start(units, pending, str(box), str(log), device, seed, limits, stop_on_unit_error, request)
            load_deadline = t0 + timeout if first else deadlines.of(pending[0].function)
            confirmed = _confirmation(worker, load_deadline, request)
            if first:
                layers = confirmed
            msg, problem, detail = worker.receive(load_deadline)
            if msg is None or msg.header.get("type") != "loaded":
                worker.kill()
                if first:
                    load_problem = _load_problem(problem, detail, timeout)
                    for t in pending:
                        outcomes[t.id] = TaskOutcome(problem="load", detail=load_problem)
                    break
                _fail_current(pending, outcomes, problem or "protocol", detail)
                continue
            if first:
                load_errors = tuple(msg.header.get("errors") or ())[:50]
                unit_outputs = _unit_outputs(log, msg.header.get("offsets"), len(units))
                first = False
                if load_errors and stop_on_unit_error:
                    worker.kill()
                    for t in pending:
                        outcomes[t.id] = TaskOutcome(problem="load", detail="the file failed to load")
                    break
            problem = _drain(worker, pending, outcomes, deadlines)
            worker.kill()
            if problem:
                restarts += 1
                if restarts > MAX_RESTARTS:
                    for t in pending:
                        outcomes[t.id] = TaskOutcome(problem="skipped", detail="too many crashed workers")
                    break
        return RunOutcome(outcomes, load_errors, load_problem, _read_output(log), layers, time.monotonic() - t0,
                          unit_outputs)
    finally:
        _remove(work)


def _confirmation(worker: _Worker, deadline: float, request: isolation.Request) -> tuple[str, ...]:
    """The layers the worker confirmed before running any student code.

    It is the worker's first message, sent before the submission is loaded, so student code
    cannot forge it. A worker that cannot confirm the required layers is refused.
    """
    msg, problem, detail = worker.receive(deadline)
    if msg is None or msg.header.get("type") != "confined":
        worker.kill()
        raise GraderBug(f"the worker did not start ({problem} {detail})".strip())
    layers = tuple(str(x) for x in msg.header.get("layers") or ())[:40]
    missing = [r for r in request.required if r not in layers]
    if missing:
        worker.kill()
        raise UsageError(f"--isolation strict: this machine cannot give {', '.join(missing)} "
                         f"(see `grade doctor`)")
    return layers


def confined_layers(mode: str = "best-effort", timeout: float = 120.0) -> tuple[str, ...]:
    """Start a worker with nothing to run; return the layers it confirmed (`grade doctor`)."""
    work = Path(tempfile.mkdtemp(prefix="grader-"))
    (work / "box").mkdir()
    request = make_request(mode)
    worker = _start((), [], str(work / "box"), str(work / "output.log"), "cpu", 0, default_limits(timeout),
                    True, request)
    try:
        return _confirmation(worker, time.monotonic() + timeout, request)
    finally:
        worker.kill()
        _remove(work)


def _drain(worker: _Worker, pending: list[Task], outcomes: dict[int, TaskOutcome], deadlines: _Deadlines) -> str:
    """Collect answers in order until done or a task fails; return the failure kind."""
    since = worker.clock()
    while pending:
        task = pending[0]
        msg, problem, detail = worker.receive(deadlines.of(task.function))
        if msg is not None and msg.header.get("task") != task.id:
            problem, detail = "protocol", "an answer arrived out of order"
        if problem:
            _fail_current(pending, outcomes, problem, detail)
            return problem
        now = worker.clock()
        outcomes[task.id] = TaskOutcome(message=msg, seconds=now - since)
        since = now
        pending.pop(0)
    return ""


def _fail_current(pending: list[Task], outcomes: dict[int, TaskOutcome], problem: str, detail: str) -> None:
    """Charge a failure to the first pending task; a timeout also skips its function's rest."""
    task = pending.pop(0)
    outcomes[task.id] = TaskOutcome(problem=problem, detail=detail)
    if problem == "timeout":
        for other in [t for t in pending if t.function == task.function]:
            outcomes[other.id] = TaskOutcome(problem="skipped", detail=f"`{task.function}` timed out earlier")
            pending.remove(other)


def _load_problem(problem: str, detail: str, timeout: float) -> str:
    if problem == "timeout":
        return f"timed out after {timeout:g} s while loading"
    if problem == "crash":
        return f"crashed while loading: {detail}"
    return f"did not load ({detail or 'no answer'})"


UNIT_OUTPUT_CAP = 64 * 1024
UNITS_OUTPUT_CAP = 1024 * 1024


def _unit_outputs(log: Path, offsets: Any, count: int) -> tuple[str, ...]:
    """Slice the output log at the worker's reported offsets (untrusted: checked, capped)."""
    if not isinstance(offsets, list) or len(offsets) > count or not all(type(o) is int for o in offsets):
        return ()
    try:
        with open(log, "rb") as fh:
            data = fh.read(UNITS_OUTPUT_CAP)
    except OSError:
        return ()
    texts, start = [], 0
    for end in offsets:
        if end < start:
            return ()
        texts.append(data[start:min(end, start + UNIT_OUTPUT_CAP)].decode("utf-8", "replace"))
        start = end
    return tuple(texts)


def _read_output(log: Path) -> str:
    try:
        with open(log, "rb") as fh:
            data = fh.read(OUTPUT_CAP + 1)
    except OSError:
        return ""
    text = data[:OUTPUT_CAP].decode("utf-8", "replace")
    return text + ("\n[... output truncated]" if len(data) > OUTPUT_CAP else "")


def _remove(path: Path) -> None:
    def onerror(func: Any, p: str, _exc: Any) -> None:
        try:
            os.chmod(p, 0o700)
            func(p)
        except OSError:
            pass

    shutil.rmtree(path, onerror=onerror)
