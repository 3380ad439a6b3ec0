"""Judge side of the process boundary: run a submission's tasks, enforce deadlines, collect answers.

Workers are forked from a forkserver that has imported numpy, torch and the worker code
and has done nothing else (`warm`). Deadlines are enforced from here with SIGKILL. A task that
hangs costs its function's remaining checks; a worker that dies costs its current task; the
rest run in a fresh worker. Starting a student worker is `student`, the reference worker
`reference`, a worker's pipes and death `process`; the sandbox's interface is re-exported here.
"""
from __future__ import annotations

import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.containment import isolation
from grader.protocol import wire
from grader.protocol.jobs import Limits, Task, Unit

from grader.sandbox import same_tasks
from grader.sandbox import spare as spares
from grader.sandbox.process import Worker, later
from grader.sandbox.student import confirmation, default_limits, make_request, start_student
from grader.sandbox.workdir import read_output, remove, unit_outputs
# the rest of the sandbox's interface for the judge and the commands
from grader.sandbox.reference import collect_reference, reference_ready, start_reference  # noqa: F401
from grader.sandbox.student import confined_layers  # noqa: F401
from grader.sandbox.warm import finished, warm_up  # noqa: F401

MAX_RESTARTS = 8


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

    def budget_left(self, worker: Worker) -> int:
        return ANSWER_BUDGET - self.received - worker.received


def run(units: tuple[Unit, ...], tasks: list[Task], *, timeout: float, device: str, seed: int,
        weights: dict[str, float] | None = None, limits: Limits | None = None,
        stop_on_unit_error: bool = True, isolation_mode: str = "best-effort",
        caps: dict[int, int] | None = None) -> RunOutcome:
    """Run every task against the submission; never raises for anything the student did.

    `caps` bounds the answer to a task (bytes), where the judge knows its expected size.
    Equal tasks run once (`same_tasks`); each gets that one outcome.
    Raises UsageError when `isolation_mode` demands layers this machine cannot give.
    """
    t0 = time.monotonic()
    tasks, same = same_tasks.merged(tasks)
    limits = limits or default_limits(timeout)
    request = make_request(isolation_mode)
    order = list(dict.fromkeys(t.function for t in tasks))
    deadlines = _Deadlines(t0 + timeout, order, weights or {})
    state = _Progress()
    pending = list(tasks)
    key = spares.Key(device, seed, limits, stop_on_unit_error, request)
    spares.remember(key)
    ready = spares.take(key)  # a confined worker already waiting (`grade --watch`), or None
    work = ready.work if ready is not None else Path(tempfile.mkdtemp(prefix="grader-"))
    box, log = work / "box", work / "output.log"
    box.mkdir(exist_ok=True)
    restarts = 0
    try:
        while pending:
            if not state.first and deadlines.of(pending[0].function) <= time.monotonic():
                _fail_current(pending, state.outcomes, "timeout", "")  # no time left to start a worker for it
                continue
            # The one owner of a student worker's life: it is killed on every way out of here.
            with ready.worker if ready is not None else start_student(
                    units, str(box), str(log), device, seed, limits, stop_on_unit_error, request) as worker:
                try:
                    confirmed = _hand_over(ready, units, t0 + timeout)
                    problem = _session(worker, units, log, pending, state, deadlines, t0 + timeout, timeout, request,
                                       stop_on_unit_error, caps or {}, confirmed)
                    worker.done = not problem and not pending
                finally:
                    ready = None
                    state.received += worker.received
            if problem == "stop":
                break
            if problem and problem != "reload":
                restarts += 1
                if restarts > MAX_RESTARTS:
                    for t in pending:
                        state.outcomes[t.id] = TaskOutcome(problem="skipped", detail="too many crashed workers")
                    break
        outcomes = same_tasks.spread(state.outcomes, same)
        return RunOutcome(outcomes, state.load_errors, state.load_problem, read_output(log), state.layers,
                          time.monotonic() - t0, state.unit_outputs, state.load_errors_more)
    finally:
        if ready is not None:  # taken but never used (no task to run)
            ready.worker.kill()
        later(remove, work)


def _hand_over(ready: spares.Spare | None, units: tuple[Unit, ...], deadline: float) -> tuple[str, ...] | None:
    """Send a spare the submission; the layers it confirmed when it started (None: no spare)."""
    if ready is None:
        return None
    ready.worker.send(units, max(deadline, time.monotonic() + CONFIRM_GRACE))  # a failure shows as no "loaded"
    return ready.layers


def _session(worker: Worker, units: tuple[Unit, ...], log: Path, pending: list[Task], state: _Progress,
             deadlines: _Deadlines, end: float, timeout: float, request: isolation.Request,
             stop_on_unit_error: bool, caps: dict[int, int], confirmed: tuple[str, ...] | None = None) -> str:
    """One worker's share of the run: confirm, load, answer tasks in order.

    Returns "" when every task is answered, "stop" when the submission did not load,
    "reload" when a later worker did not load, else the kind of the failure that ended it.
    """
    load_deadline = end if state.first else deadlines.of(pending[0].function)
    # The confirmation comes before any student code: the grader's own start-up, not the student's time.
    if confirmed is None:
        confirmed = confirmation(worker, max(load_deadline, time.monotonic() + CONFIRM_GRACE), request)
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
        state.unit_outputs = unit_outputs(log, offsets, len(units))
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


def _drain(worker: Worker, pending: list[Task], state: _Progress, deadlines: _Deadlines,
           caps: dict[int, int]) -> str:
    """Hand out tasks and collect their answers in order, until done or a task fails; return the
    failure kind. While one runs, the next (if small) is handed over already, so the worker goes
    on without waiting for the judge; its time then counts from the answer before it."""
    ahead: int | None = None  # the id of the task handed over ahead of its turn
    sent = worker.clock()
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
        problem = ""
        if ahead != task.id:
            sent = worker.clock()
            problem = worker.send(task, deadline)
        ahead = pending[1].id if not problem and len(pending) > 1 and worker.send_ahead(pending[1]) else None
        msg, detail = None, ""
        if not problem:
            msg, problem, detail = worker.receive(deadline, min(left, caps.get(task.id, wire.MAX_MESSAGE_BYTES)))
        if problem == "crash" and not detail:
            detail = worker.death()
        if msg is not None and (type(msg.header.get("task")) is not int or msg.header.get("task") != task.id):
            problem, detail = "protocol", "an answer arrived out of order"
        if problem:
            _fail_current(pending, state.outcomes, problem, detail)
            return problem
        answered = worker.clock()
        state.outcomes[task.id] = TaskOutcome(message=msg, seconds=answered - sent)
        sent = answered  # where the task handed over ahead started
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
