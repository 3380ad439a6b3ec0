"""One reference run per exercise and seed in a process (a batch shares one seed).

The first grade that needs the reference's answers for (module, seed) runs the reference
worker, started by a thread of its own (the judge goes on to start the student's worker, so the
forkserver forks both as soon as it is ready, and the student's cgroup is made before the
reference's start primes the kernel's cgroup migration), which then reads the answers as they come (a reference that waited on a
full pipe while the judge runs the student's worker would finish only after it: 1.5 s of
exercise 6's 4.4); grades that arrive while it runs (a batch's other job threads) wait for its answers
instead of starting another, while their own student workers run. A run that fails or is
abandoned is forgotten: the reference's own failure reaches every waiter (it is the grader's
bug), any other way out lets the next grade run the reference itself.
"""
from __future__ import annotations

import threading
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from grader.errors import GraderBug
from grader.protocol import wire
from grader.protocol.jobs import Task
from grader.sandbox import run as sandbox


class _Abandoned(Exception):
    """The grade that ran the reference left before its answers came (not the reference's fault)."""


@dataclass
class _Shared:
    ready: Future = field(default_factory=Future)  # CUDA available (the reference's first message)
    answers: Future = field(default_factory=Future)  # task id -> the reference's answer
    error: BaseException | None = None  # what ended the run, as raised (for its owner)
    abandoned: bool = False  # its owner left before the answers came


RUNS: dict[tuple[Any, ...], _Shared] = {}  # (module, seed, the tasks' ids, functions, probes) -> its run
_LOCK = threading.Lock()


class Claim:
    """One grade's access to the reference's answers for (module, seed): run them, or wait for them.

    `timeout`: how long the reference may take for all its answers (its reader's deadline)."""

    def __init__(self, module: str, seed: int, tasks: list[Task], timeout: float = 120.0) -> None:
        self.module, self.seed, self.tasks, self.timeout = module, seed, tasks, timeout
        self.key = (module, seed, tuple((t.id, t.function, t.probe) for t in tasks))
        self.worker: Any = None  # set by the reader thread once the forkserver has forked it
        self.reader: threading.Thread | None = None
        self._lock = threading.Lock()  # `worker` against `abandon`
        with _LOCK:
            shared = RUNS.get(self.key)
            self.owner = shared is None
            self.shared = RUNS.setdefault(self.key, _Shared())
        if self.owner:  # the reader starts it: the student's worker does not wait in line behind it
            self.reader = threading.Thread(target=self._read, name="reference-reader", daemon=True)
            self.reader.start()

    def _read(self) -> None:
        """The owner's reader thread: start the reference, then its first message, then every answer."""
        try:
            worker = sandbox.start_reference(self.module, self.tasks)
            with self._lock:
                self.worker, abandoned = worker, self.shared.abandoned
            if abandoned:  # the owner left while the forkserver forked it
                worker.kill()
                raise _Abandoned()
            self.shared.ready.set_result(sandbox.reference_ready(worker))
            self.shared.answers.set_result(sandbox.collect_reference(worker, self.tasks, timeout=self.timeout))
        except BaseException as exc:  # the reference's failure, or the owner left (`abandon`)
            self.shared.error = _Abandoned() if self.shared.abandoned else exc
            self._fail(self.shared.error)

    def known(self) -> dict[int, wire.Message] | None:
        """The answers, if they are in already (they size the caps on the student's answers)."""
        answers = self.shared.answers
        return answers.result() if answers.done() and answers.exception() is None else None

    def cuda(self) -> bool:
        """Whether CUDA is available, from the reference's first message."""
        return bool(self._wait(lambda: self.shared.ready))

    def answers(self) -> dict[int, wire.Message]:
        """The reference's answer to every task."""
        return self._wait(lambda: self.shared.answers)

    def _wait(self, future: Any) -> Any:
        """`future()`'s result; a waiter whose owner left takes over, an owner sees its own error."""
        while True:
            try:
                return future().result()
            except _Abandoned:
                if self.owner:
                    raise self.shared.error or _Abandoned() from None
                self._take_over()
            except BaseException:
                if self.owner and self.shared.error is not None:
                    raise self.shared.error from None
                raise

    def abandon(self) -> None:
        """This grade leaves early: stop the reference it runs, if it runs one and it is not done."""
        if self.owner and not self.shared.answers.done():
            with self._lock:
                self.shared.abandoned = True
                worker = self.worker  # None: the reader kills it itself once it is forked
            if worker is not None:
                worker.stop()  # its reader sees the pipe close and frees the worker
                if self.reader is not None:
                    self.reader.join(10)
                worker.kill()
            self._fail(_Abandoned())

    def _take_over(self) -> None:
        """The grade we waited for left: run the reference ourselves (a fresh claim)."""
        fresh = Claim(self.module, self.seed, self.tasks, self.timeout)  # the owner, unless another waiter took over first
        self.shared, self.owner, self.worker, self.reader = fresh.shared, fresh.owner, fresh.worker, fresh.reader

    def _fail(self, exc: BaseException) -> None:
        with _LOCK:
            if RUNS.get(self.key) is self.shared:
                del RUNS[self.key]
        shared_exc = exc if isinstance(exc, GraderBug) else _Abandoned()
        for future in (self.shared.ready, self.shared.answers):
            if not future.done():
                future.set_exception(shared_exc)
