"""Where the expected answers come from: one small interface, two implementations.

`ReferenceAnswers` runs the trusted reference worker on the planned tasks while the student's
worker runs (once per exercise and seed in a process: a batch shares one seed, and its job
threads share the run, `reference_runs`);
`StoredAnswers` reads the student bundle's precomputed store (public checks only: hidden
checks stay pending). The judge runs the same flow with either (`grade.grade`).
"""
from __future__ import annotations

from typing import Any, Protocol

from grader.exercises.spec import Exercise
from grader.judge import answers, devices, reference_runs
from grader.judge.plan import Planned, tasks_of
from grader.protocol import wire
from grader.protocol.jobs import Task
from grader.sandbox import run as sandbox

ANSWER_SLACK = 4 * 1024 * 1024


class Session(Protocol):
    """The expected answers for one graded run."""

    cuda: bool  # whether a CUDA device is available to the workers

    def caps(self) -> dict[int, int] | None:
        """The most bytes the judge reads per task (None: only the wire's own caps)."""

    def collect(self, timeout: float) -> dict[int, wire.Message]:
        """The expected answer to every graded task."""

    def abort(self) -> None:
        """The run stopped before `collect`: free what the session holds."""


class Source(Protocol):
    """Where expected answers come from: which checks it can grade, and a session for them."""

    def graded(self, planned: list[Planned]) -> list[Planned]:
        """The planned checks graded here (the rest are pending: they run at submission)."""

    def open(self, exercise: Exercise, seed: int, graded: list[Planned], device: str,
             timeout: float | None = None) -> Session:
        """Start getting the answers to `graded`'s tasks (`device`: what the user asked for;
        `timeout`: the student's, default the exercise's)."""


class ReferenceAnswers:
    """The reference worker, on the CPU, on fresh inputs: every check is graded."""

    def graded(self, planned: list[Planned]) -> list[Planned]:
        return list(planned)

    def open(self, exercise: Exercise, seed: int, graded: list[Planned], device: str,
             timeout: float | None = None) -> Session:
        return _ReferenceSession(exercise.reference, seed, tasks_of(graded),
                                 max(120.0, 2 * (timeout or exercise.timeout)))


class _ReferenceSession:
    """A claim on the one reference run for (module, seed, tasks) in this process
    (`reference_runs`): a batch's job threads share it instead of each running the reference."""

    def __init__(self, module: str, seed: int, tasks: list[Task], timeout: float) -> None:
        self.claim = reference_runs.Claim(module, seed, tasks, timeout)

    @property
    def cuda(self) -> bool:
        """From the reference's first message, unless this torch was built without CUDA (then
        the student's worker starts without waiting for the reference)."""
        return devices.cuda_built() and self.claim.cuda()

    def caps(self) -> dict[int, int] | None:
        known = self.claim.known()
        return answer_caps(known) if known else None

    def collect(self, timeout: float) -> dict[int, wire.Message]:
        return self.claim.answers()  # within the deadline given at `open`

    def abort(self) -> None:
        self.claim.abandon()  # e.g. --isolation strict refused this machine


class StoredAnswers:
    """A precomputed store (the student bundle): public checks only, on its public seeds."""

    def __init__(self, store: answers.Store) -> None:
        self.store = store

    def graded(self, planned: list[Planned]) -> list[Planned]:
        return [p for p in planned if not p.check.hidden]

    def open(self, exercise: Exercise, seed: int, graded: list[Planned], device: str,
             timeout: float | None = None) -> Session:
        names = [p.check.test_name for p in graded for _ in p.tasks]
        expected = self.store.expected(exercise.number, seed, names, tasks_of(graded))
        return _StoredSession(expected, device != "cpu" and devices.cuda_built() and cuda_available())


class _StoredSession:
    def __init__(self, expected: dict[int, wire.Message], cuda: bool) -> None:
        self.expected, self.cuda = expected, cuda

    def caps(self) -> dict[int, int] | None:
        return answer_caps(self.expected)

    def collect(self, timeout: float) -> dict[int, wire.Message]:
        return self.expected

    def abort(self) -> None:
        pass


def source(store: answers.Store | None = None) -> Source:
    """`store` if given, else the installed store if any, else the reference worker."""
    found = store or answers.installed()
    return StoredAnswers(found) if found is not None else ReferenceAnswers()


def cuda_available() -> bool:
    """Ask a trusted worker (no reference module, no tasks) whether CUDA is available."""
    worker = sandbox.start_reference("grader.protocol.wire", [])
    try:
        return sandbox.reference_ready(worker)
    finally:
        worker.kill()


def answer_caps(expected: dict[int, wire.Message]) -> dict[int, int]:
    """The most bytes the judge reads for each task: well above the reference's answer, far
    below the wire's cap, so an answer much larger than the expected shapes is refused as it arrives."""
    return {tid: 16 * (sum(a.nbytes for a in msg.arrays.values()) + len(repr(msg.header))) + ANSWER_SLACK
            for tid, msg in expected.items()}
