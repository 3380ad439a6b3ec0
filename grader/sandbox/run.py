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
import pickle
import shutil
import signal
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from grader.containment import cgroups
from grader.containment import isolation
from grader.containment import reaper
from grader.protocol import wire
from grader.errors import GraderBug, UsageError
from grader.protocol.jobs import Limits, Task, Unit, WorkerJob

from grader.sandbox.warm import NOTEBOOK_PRELOAD, PRELOAD, bare_main, context, warm_up  # noqa: F401 (re-exported)

MAX_RESTARTS = 8
OUTPUT_CAP = 16 * 1024


@dataclass(frozen=True)
class TaskOutcome:
    """What became of one task: a validated message, or why there is none."""

    message: wire.Message | None = None
    problem: str = ""  # "timeout", "crash", "protocol", "skipped", "load"
    detail: str = ""
    # from handing the task to the worker to its answer: the worker tree's CPU time where its
    # cgroup counts it (immune to neighbours), else the judge's wall clock
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
    load_errors_more: int = 0  # errors raised while loading beyond those listed in load_errors


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
    tasks: Any = None  # the judge's end of the pipe that carries each task's inputs when it starts
    received: int = 0  # bytes of answers read from this worker
    closed: bool = False


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
            return None, "crash", self._death()
        except wire.WireError as exc:
            return None, "protocol", str(exc)
        self.received += len(data)
        try:
            return wire.decode(data), "", ""
        except wire.WireError as exc:
            return None, "protocol", str(exc)

    def send(self, task: Task, deadline: float) -> str:
        """Hand one task to the worker, before `deadline`; "" or the problem ("timeout", "crash")."""
        if self.tasks is None or self.closed:
            return "crash"
        try:
            wire.write_frame(self.tasks.fileno(), pickle.dumps(task, protocol=pickle.HIGHEST_PROTOCOL), deadline)
        except wire.Stalled:
            return "timeout"
        except wire.Closed:
            return "crash"
        return ""

    def __enter__(self) -> "_Worker":
        return self

    def __exit__(self, *exc: Any) -> None:
        self.kill()

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
        """SIGKILL the worker and every descendant it made, wherever they went (once; idempotent)."""
        if self.closed:
            return
        self.closed = True
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
        if self.tasks is not None:
            self.tasks.close()
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
    from grader.sandbox import entry

    ctx = context()
    recv, send = ctx.Pipe(duplex=False)
    _widen(recv.fileno())
    proc = ctx.Process(target=entry.reference, args=(module, tuple(tasks), send), daemon=True)
    _launch(proc)
    send.close()
    return _Worker(proc, recv)


F_SETPIPE_SZ = 1031  # Linux
REFERENCE_PIPE_BYTES = 1024 * 1024  # the unprivileged maximum (/proc/sys/fs/pipe-max-size) by default


def _widen(fd: int) -> None:
    """Let the reference write all its answers while the judge still waits for the student's.

    With the default 64 KiB it blocks mid-way in exercise 5 (92 ms where 24 do). Linux only;
    elsewhere, or past the system's maximum, the pipe keeps its size."""
    if sys.platform.startswith("linux"):
        import fcntl

        try:
            fcntl.fcntl(fd, F_SETPIPE_SZ, REFERENCE_PIPE_BYTES)
        except OSError:
            pass


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


def _start(units: tuple[Unit, ...], box: str, log: str, device: str, seed: int,
           limits: Limits, stop_on_unit_error: bool, request: isolation.Request) -> _Worker:
    """Fork a student worker. It gets no task inputs here: each follows on its own pipe when
    that task starts (`_Worker.send`), so nothing the submission runs at import can read them."""
    from grader.sandbox import entry

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
    task_recv, task_send = ctx.Pipe(duplex=False)
    job = WorkerJob(units, (), box, log, device, seed, limits, True, stop_on_unit_error, request)
    proc = ctx.Process(target=entry.student, args=(job, send, task_recv), daemon=True)
    _launch(proc)
    send.close()
    task_recv.close()
    return _Worker(proc, recv, group, reap=request.on("subreaper"), tasks=task_send)


def memory_cap(limits: Limits) -> int:
    """The cgroup's memory bound: above RLIMIT_DATA, to catch what that limit does not count."""
    return int(limits.memory_bytes * 1.25) + 256 * 1024**2


def make_request(mode: str = "best-effort") -> isolation.Request:
    """What every worker of this run is asked to apply."""
    from grader.exercises import answer_keys

    hide = answer_keys.answer_key_dirs()
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


ANSWER_BUDGET = 256 * 1024**2  # bytes of answers one submission may send, all its workers together
LOADED_CAP = 1024 * 1024  # the "loaded" message: capped cell errors and offsets
MAX_LOAD_ERRORS = 50
CONFIRM_GRACE = 30.0  # seconds a restarted worker has to confirm its layers, past the deadline if need be


@dataclass
class _Progress:
    """What one run has learnt so far (filled in as its workers answer)."""

    outcomes: dict[int, TaskOutcome] = field(default_factory=dict)
    load_errors: tuple[dict[str, Any], ...] = ()
    load_errors_more: int = 0
    load_problem: str = ""
    layers: tuple[str, ...] = ()
    unit_outputs: tuple[str, ...] = ()
    first: bool = True
    received: int = 0  # bytes of answers from the workers that have ended

    def budget_left(self, worker: _Worker) -> int:
        return ANSWER_BUDGET - self.received - worker.received


def run(units: tuple[Unit, ...], tasks: list[Task], *, timeout: float, device: str, seed: int,
        weights: dict[str, float] | None = None, limits: Limits | None = None,
        stop_on_unit_error: bool = True, isolation_mode: str = "best-effort",
        caps: dict[int, int] | None = None) -> RunOutcome:
    """Run every task against the submission; never raises for anything the student did.

    `caps` bounds the answer to a task (bytes), where the judge knows its expected size.
    Raises UsageError when `isolation_mode` demands layers this machine cannot give.
    """
    t0 = time.monotonic()
    limits = limits or default_limits(timeout)
    request = make_request(isolation_mode)
    order = list(dict.fromkeys(t.function for t in tasks))
    deadlines = _Deadlines(t0 + timeout, order, weights or {})
    state = _Progress()
    pending = list(tasks)
    work = Path(tempfile.mkdtemp(prefix="grader-"))
    box, log = work / "box", work / "output.log"
    box.mkdir()
    restarts = 0
    try:
        while pending:
            if not state.first and deadlines.of(pending[0].function) <= time.monotonic():
                _fail_current(pending, state.outcomes, "timeout", "")  # no time left to start a worker for it
                continue
            # The one owner of a student worker's life: it is killed on every way out of here.
            with _start(units, str(box), str(log), device, seed, limits, stop_on_unit_error, request) as worker:
                try:
                    problem = _session(worker, units, log, pending, state, deadlines, t0 + timeout, timeout, request,
                                       stop_on_unit_error, caps or {})
                finally:
                    state.received += worker.received
            if problem == "stop":
                break
            if problem and problem != "reload":
                restarts += 1
                if restarts > MAX_RESTARTS:
                    for t in pending:
                        state.outcomes[t.id] = TaskOutcome(problem="skipped", detail="too many crashed workers")
                    break
        return RunOutcome(state.outcomes, state.load_errors, state.load_problem, _read_output(log), state.layers,
                          time.monotonic() - t0, state.unit_outputs, state.load_errors_more)
    finally:
        _remove(work)


def _session(worker: _Worker, units: tuple[Unit, ...], log: Path, pending: list[Task], state: _Progress,
             deadlines: _Deadlines, end: float, timeout: float, request: isolation.Request,
             stop_on_unit_error: bool, caps: dict[int, int]) -> str:
    """One worker's share of the run: confirm, load, answer tasks in order.

    Returns "" when every task is answered, "stop" when the submission did not load,
    "reload" when a later worker did not load, else the kind of the failure that ended it.
    """
    load_deadline = end if state.first else deadlines.of(pending[0].function)
    # The confirmation comes before any student code: the grader's own start-up, not the student's time.
    confirmed = _confirmation(worker, max(load_deadline, time.monotonic() + CONFIRM_GRACE), request)
    if state.first:
        state.layers = confirmed
    msg, problem, detail = worker.receive(load_deadline, LOADED_CAP)
    loaded = _loaded(msg) if msg is not None else None
    if loaded is None:
        if msg is not None:
            problem, detail = "protocol", "the worker's answer could not be read"
        if state.first:
            state.load_problem = _load_problem(problem, detail, timeout)
            for t in pending:
                state.outcomes[t.id] = TaskOutcome(problem="load", detail=state.load_problem)
            pending.clear()
            return "stop"
        _fail_current(pending, state.outcomes, problem or "protocol", detail)
        return "reload"
    if state.first:
        errors, more, offsets = loaded
        state.load_errors, state.load_errors_more = errors[:MAX_LOAD_ERRORS], more + max(0, len(errors) - MAX_LOAD_ERRORS)
        state.unit_outputs = _unit_outputs(log, offsets, len(units))
        state.first = False
        if errors and stop_on_unit_error:
            for t in pending:
                state.outcomes[t.id] = TaskOutcome(problem="load", detail="the file failed to load")
            pending.clear()
            return "stop"
    return _drain(worker, pending, state, deadlines, caps)


def _loaded(msg: wire.Message) -> tuple[tuple[dict[str, Any], ...], int, Any] | None:
    """The "loaded" message's errors, count of errors left out and offsets; None if malformed."""
    header = msg.header
    errors, more = header.get("errors"), header.get("more_errors", 0)
    if header.get("type") != "loaded" or not isinstance(errors, list) or type(more) is not int or more < 0:
        return None
    if not all(isinstance(e, dict) for e in errors):
        return None
    return tuple(errors), min(more, 10**9), header.get("offsets")


def _confirmation(worker: _Worker, deadline: float, request: isolation.Request) -> tuple[str, ...]:
    """The layers the worker confirmed before running any student code.

    It is the worker's first message, sent before the submission is loaded, so student code
    cannot forge it. A worker that cannot confirm the required layers is refused.
    """
    msg, problem, detail = worker.receive(deadline)
    if msg is None or msg.header.get("type") != "confined":
        worker.kill()
        raise GraderBug(f"the worker did not start ({problem} {detail})".strip())
    raw = msg.header.get("layers")
    layers = tuple(str(x)[:40] for x in raw[:40] if isinstance(x, str)) if isinstance(raw, list) else ()
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
    worker = _start((), str(work / "box"), str(work / "output.log"), "cpu", 0, default_limits(timeout),
                    True, request)
    try:
        return _confirmation(worker, time.monotonic() + timeout, request)
    finally:
        worker.kill()
        _remove(work)


def _drain(worker: _Worker, pending: list[Task], state: _Progress, deadlines: _Deadlines,
           caps: dict[int, int]) -> str:
    """Hand out tasks one at a time and collect their answers in order, until done or a task
    fails; return the failure kind."""
    while pending:
        task = pending[0]
        deadline = deadlines.of(task.function)
        left = state.budget_left(worker)
        if left <= 0:
            for t in list(pending):
                state.outcomes[t.id] = TaskOutcome(problem="protocol",
                                                   detail="the answers together are over the grader's limit")
            pending.clear()
            return ""
        sent = worker.clock()
        problem = worker.send(task, deadline)
        msg, detail = None, ""
        if not problem:
            msg, problem, detail = worker.receive(deadline, min(left, caps.get(task.id, wire.MAX_MESSAGE_BYTES)))
        if problem == "crash" and not detail:
            detail = worker._death()
        if msg is not None and (type(msg.header.get("task")) is not int or msg.header.get("task") != task.id):
            problem, detail = "protocol", "an answer arrived out of order"
        if problem:
            _fail_current(pending, state.outcomes, problem, detail)
            return problem
        state.outcomes[task.id] = TaskOutcome(message=msg, seconds=worker.clock() - sent)
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
