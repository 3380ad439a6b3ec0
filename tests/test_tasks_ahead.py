"""The next small task waits in the worker's pipe while one runs; each task's time is its own."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.exercises.casekit import arg
from grader.protocol.jobs import Task, Unit
from grader.sandbox import process
from grader.sandbox import run as sandbox

# burns 0.4 s of CPU when its input sums past 10, else answers at once
CODE = """import time
def f(x):
    if float(x.sum()) > 10:
        t = time.process_time()
        while time.process_time() - t < 0.4:
            pass
    return x
"""


def _task(i: int, values: Any) -> Task:
    return Task(i, "f", "call", {"x": np.asarray(values, dtype=np.float64)}, {"args": [arg("x", "numpy")]})


@pytest.fixture
def ahead(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The ids of the tasks handed over ahead of their turn."""
    sent: list[int] = []
    real = process.Worker.send_ahead

    def spy(self: process.Worker, task: Task) -> bool:
        ok = real(self, task)
        if ok:
            sent.append(task.id)
        return ok

    monkeypatch.setattr(process.Worker, "send_ahead", spy)
    return sent


def test_small_tasks_go_ahead_and_each_is_timed_alone(tmp_path: Path, ahead: list[int]) -> None:
    tasks = [_task(0, [20.0]), _task(1, [1.0]), _task(2, [2.0])]
    sandbox.warm_up()
    run = sandbox.run((Unit(str(tmp_path / "s.py"), CODE),), tasks, timeout=30, device="cpu", seed=1)
    assert all(run.outcomes[t.id].message is not None for t in tasks)
    assert [run.outcomes[t.id].message.arrays["out"][0] for t in tasks] == [20.0, 1.0, 2.0]
    assert ahead == [1, 2]  # each sent while the one before ran
    assert run.outcomes[0].seconds >= 0.3  # the slow one carries its own time
    assert run.outcomes[1].seconds < 0.2 and run.outcomes[2].seconds < 0.2  # and not the next one's


def test_a_large_task_waits_for_its_turn(tmp_path: Path, ahead: list[int]) -> None:
    tasks = [_task(0, [1.0]), _task(1, np.zeros(2000)), _task(2, [2.0])]  # 16 kB: more than one atomic write
    sandbox.warm_up()
    run = sandbox.run((Unit(str(tmp_path / "s.py"), CODE),), tasks, timeout=30, device="cpu", seed=1)
    assert all(run.outcomes[t.id].message is not None for t in tasks)
    assert ahead == []  # not the large one, nor the small one after it (the pipe may still hold the large)


def test_a_shrunk_task_pipe_costs_the_judge_no_wait(tmp_path: Path) -> None:
    """A worker may shrink its task pipe to one page (F_SETPIPE_SZ on its end) and stop reading:
    a task that no longer fits is not handed over ahead, at once, never half-written."""
    import fcntl
    import os
    import time

    r, w = os.pipe()
    try:
        fcntl.fcntl(r, 1031, 4096)  # F_SETPIPE_SZ: one page
        os.write(w, b"x" * 4000)  # the current task's frame, unread: the page is nearly full
        worker = process.Worker(process=None, conn=None, tasks=type("End", (), {"fileno": lambda self: w})())
        worker.last_small = True
        t = time.monotonic()
        assert worker.send_ahead(_task(1, [1.0])) is False
        assert time.monotonic() - t < 0.1
        os.set_blocking(r, False)
        assert os.read(r, 10_000) == b"x" * 4000  # nothing of the refused frame got in
    finally:
        os.close(r)
        os.close(w)
