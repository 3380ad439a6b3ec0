"""One reference run per exercise and seed in a process (a batch shares one seed).

The first grade that needs the reference's answers for (module, seed) runs the reference
worker; grades that arrive while it runs (a batch's other job threads) wait for its answers
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


RUNS: dict[tuple[Any, ...], _Shared] = {}  # (module, seed, the tasks' ids, functions, probes) -> its run
_LOCK = threading.Lock()


class Claim:
    """One grade's access to the reference's answers for (module, seed): run them, or wait for them."""

    def __init__(self, module: str, seed: int, tasks: list[Task]) -> None:
        self.module, self.seed, self.tasks = module, seed, tasks
        self.key = (module, seed, tuple((t.id, t.function, t.probe) for t in tasks))
        self.worker: Any = None
        with _LOCK:
            shared = RUNS.get(self.key)
            self.owner = shared is None
            self.shared = RUNS.setdefault(self.key, _Shared())
        if self.owner:
            try:
                self.worker = sandbox.start_reference(module, tasks)
            except BaseException as exc:
                self._fail(exc)
                raise

    def known(self) -> dict[int, wire.Message] | None:
        """The answers, if they are in already (they size the caps on the student's answers)."""
        answers = self.shared.answers
        return answers.result() if answers.done() and answers.exception() is None else None

    def cuda(self) -> bool:
        """Whether CUDA is available, from the reference's first message."""
        while not self.owner:
            try:
                return bool(self.shared.ready.result())
            except _Abandoned:
                self._take_over()
        if self.shared.ready.done():
            return bool(self.shared.ready.result())
        try:
            cuda = sandbox.reference_ready(self.worker)
        except BaseException as exc:
            self._fail(exc)
            raise
        self.shared.ready.set_result(cuda)
        return cuda

    def answers(self, timeout: float) -> dict[int, wire.Message]:
        """The reference's answer to every task."""
        while not self.owner:
            try:
                return self.shared.answers.result()
            except _Abandoned:
                self._take_over()
        self.cuda()
        try:
            expected = sandbox.collect_reference(self.worker, self.tasks, timeout=timeout)
        except BaseException as exc:
            self._fail(exc)
            raise
        self.shared.answers.set_result(expected)
        return expected

    def abandon(self) -> None:
        """This grade leaves early: stop the reference it runs, if it runs one and it is not done."""
        if self.owner and not self.shared.answers.done():
            if self.worker is not None:
                self.worker.kill()
            self._fail(_Abandoned())

    def _take_over(self) -> None:
        """The grade we waited for left: run the reference ourselves (a fresh claim)."""
        fresh = Claim(self.module, self.seed, self.tasks)  # the owner, unless another waiter took over first
        self.shared, self.owner, self.worker = fresh.shared, fresh.owner, fresh.worker

    def _fail(self, exc: BaseException) -> None:
        with _LOCK:
            if RUNS.get(self.key) is self.shared:
                del RUNS[self.key]
        shared_exc = exc if isinstance(exc, GraderBug) else _Abandoned()
        for future in (self.shared.ready, self.shared.answers):
            if not future.done():
                future.set_exception(shared_exc)
