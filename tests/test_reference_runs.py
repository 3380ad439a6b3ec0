"""One reference run per exercise and seed: concurrent grades share it, failures are not cached."""
from __future__ import annotations

import threading
from typing import Any

import pytest

from grader.errors import GraderBug
from grader.judge import reference_runs


class FakeSandbox:
    """Stands in for the reference worker: counts starts, answers after `gate` opens."""

    def __init__(self, fail: bool = False) -> None:
        self.starts = 0
        self.killed = 0
        self.gate = threading.Event()
        self.stopped = threading.Event()
        self.fail = fail

    def start_reference(self, module: str, tasks: list[Any]) -> Any:
        self.starts += 1
        self.stopped.clear()
        return self

    def reference_ready(self, worker: Any) -> bool:
        return False

    def collect_reference(self, worker: Any, tasks: list[Any], timeout: float) -> dict[int, Any]:
        for _ in range(1000):
            if self.gate.wait(0.01):
                break
            if self.stopped.is_set():  # the pipe closed
                raise GraderBug("the reference worker failed (crash)")
        if self.fail:
            raise GraderBug("the reference failed")
        return {0: "answer"}

    def stop(self) -> None:
        self.stopped.set()

    def kill(self) -> None:
        self.killed += 1


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeSandbox:
    box = FakeSandbox()
    monkeypatch.setattr(reference_runs, "sandbox", box)
    monkeypatch.setattr(reference_runs, "RUNS", {})
    return box


def _grade(results: list[Any], seed: int = 1) -> None:
    claim = reference_runs.Claim("reference.exercise1", seed, [])
    claim.cuda()
    try:
        results.append(claim.answers())
    except GraderBug as exc:
        results.append(exc)


def test_concurrent_grades_share_one_reference_run(fake: FakeSandbox) -> None:
    results: list[Any] = []
    threads = [threading.Thread(target=_grade, args=(results,)) for _ in range(4)]
    for t in threads:
        t.start()
    fake.gate.set()
    for t in threads:
        t.join(10)
    assert results == [{0: "answer"}] * 4
    assert fake.starts == 1
    _grade(results)  # later: from the finished run
    assert fake.starts == 1
    _grade(results, seed=2)  # another seed: its own run
    assert fake.starts == 2


def test_a_failed_reference_reaches_the_waiters_and_is_not_kept(fake: FakeSandbox) -> None:
    fake.fail = True
    results: list[Any] = []
    threads = [threading.Thread(target=_grade, args=(results,)) for _ in range(3)]
    for t in threads:
        t.start()
    fake.gate.set()
    for t in threads:
        t.join(10)
    assert len(results) == 3 and all(isinstance(r, GraderBug) for r in results)
    fake.fail = False
    _grade(results)
    assert results[-1] == {0: "answer"} and fake.starts >= 2


def test_a_waiter_runs_the_reference_itself_when_the_owner_leaves(fake: FakeSandbox) -> None:
    owner = reference_runs.Claim("reference.exercise1", 1, [])
    owner.cuda()
    waiter = reference_runs.Claim("reference.exercise1", 1, [])
    assert not waiter.owner and fake.starts == 1
    owner.abandon()  # e.g. its student run raised
    assert fake.killed == 1
    fake.gate.set()
    assert waiter.answers() == {0: "answer"}
    assert fake.starts == 2


def test_the_owner_reads_the_answers_as_they_come(fake: FakeSandbox) -> None:
    """Read by the claim's own thread, not when the judge asks: a reference whose pipe filled
    up while the judge ran the student's worker would only then go on."""
    fake.gate.set()
    claim = reference_runs.Claim("reference.exercise1", 1, [])
    assert claim.reader is not None
    claim.reader.join(10)
    assert claim.known() == {0: "answer"}


def test_an_owner_sees_its_own_error(fake: FakeSandbox) -> None:
    fake.fail = True
    fake.gate.set()
    claim = reference_runs.Claim("reference.exercise1", 1, [])
    with pytest.raises(GraderBug, match="the reference failed"):
        claim.answers()


def test_an_owner_that_leaves_while_its_reference_is_being_forked_does_not_leave_it_running(
        fake: FakeSandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader thread starts the reference (the forkserver may still be importing torch): a
    grade that leaves before the fork is done has its reader kill the worker once it has it."""
    forking, forked = threading.Event(), threading.Event()
    real = fake.start_reference

    def slow_start(module: str, tasks: list[Any]) -> Any:
        forking.set()
        forked.wait(10)
        return real(module, tasks)

    monkeypatch.setattr(fake, "start_reference", slow_start)
    claim = reference_runs.Claim("reference.exercise1", 1, [])
    assert forking.wait(10)
    claim.abandon()  # before the worker exists
    forked.set()
    assert claim.reader is not None
    claim.reader.join(10)
    assert not claim.reader.is_alive() and fake.killed == 1
    assert reference_runs.RUNS == {}  # not kept: the next grade runs it afresh
