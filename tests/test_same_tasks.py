"""Equal tasks run once; every check that planned one is judged on that one answer."""
from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from grader.exercises.spec import load_exercise
from grader.judge import grade as judge, reference_runs
from grader.sandbox import process, same_tasks
from grader.intake.load import read_submission
from grader.judge.plan import plan, tasks_of
from grader.protocol.jobs import Task

ROOT = Path(__file__).resolve().parent.parent


def _task(i: int, x: Any = None, **params: Any) -> Task:
    arrays = {"x": np.arange(4.0) if x is None else x}
    return Task(i, "f", "call", arrays, params)


def test_equal_tasks_merge_into_the_first() -> None:
    tasks = [_task(0), _task(1), _task(2, np.arange(4.0) + 1), _task(3)]
    runs, same = same_tasks.merged(tasks)
    assert [t.id for t in runs] == [0, 2]
    assert same == {1: 0, 3: 0}
    assert same_tasks.spread({0: "a", 2: "b"}, same) == {0: "a", 1: "a", 2: "b", 3: "a"}


@pytest.mark.parametrize("other", [
    _task(1, np.arange(4.0, dtype=np.float32)),  # same values, another dtype
    _task(1, np.arange(4.0).reshape(2, 2)),  # another shape
    _task(1, np.array([0.0, 1.0, 2.0, np.nan])),  # one value differs
    _task(1, lr=0.1),  # other params
    Task(1, "g", "call", {"x": np.arange(4.0)}),  # another function
    Task(1, "f", "train", {"x": np.arange(4.0)}),  # another probe
    Task(1, "f", "call", {"y": np.arange(4.0)}),  # another argument
])
def test_tasks_that_differ_in_anything_both_run(other: Task) -> None:
    runs, same = same_tasks.merged([_task(0), other])
    assert len(runs) == 2 and same == {}


def test_params_that_do_not_compare_are_not_merged() -> None:
    runs, same = same_tasks.merged([_task(0, w=np.ones(3)), _task(1, w=np.ones(3))])
    assert len(runs) == 2 and same == {}


def test_a_missing_answer_is_not_invented() -> None:
    assert same_tasks.spread({}, {1: 0}) == {}


def test_exercise6_times_the_run_it_judges_for_its_weights() -> None:
    """The time budget shares the full run's inputs (`Check.inputs`), so one run is timed and judged."""
    exercise = load_exercise(6)
    planned = plan(exercise, seed=5)
    full = [p for p in planned if p.check.probe == "mnist_full_run"]
    assert len(full) == 2
    runs, same = same_tasks.merged(tasks_of(planned))
    assert same == {full[1].tasks[0].id: full[0].tasks[0].id}
    assert sum(t.probe == "mnist_full_run" for t in runs) == 1


def test_a_grade_sends_each_equal_task_once_and_judges_every_check(monkeypatch: pytest.MonkeyPatch) -> None:
    """Both workers get each equal task once (the student's by `send` or `send_ahead`)."""
    sent: list[int] = []
    real_send, real_ahead = process.Worker.send, process.Worker.send_ahead

    def send(self: process.Worker, task: Any, deadline: float) -> str:
        sent.extend([task.id] if isinstance(task, Task) else [])
        return real_send(self, task, deadline)

    def ahead(self: process.Worker, task: Task) -> bool:
        ok = real_ahead(self, task)
        sent.extend([task.id] if ok else [])
        return ok

    monkeypatch.setattr(process.Worker, "send", send)
    monkeypatch.setattr(process.Worker, "send_ahead", ahead)
    reference: list[list[int]] = []
    real_start = reference_runs.sandbox.start_reference

    def start(module: str, tasks: list[Task]) -> Any:
        worker = real_start(module, tasks)
        reference.append([t.id for t in tasks if t.id not in worker.same])
        return worker

    monkeypatch.setattr(reference_runs.sandbox, "start_reference", start)
    monkeypatch.setattr(reference_runs, "RUNS", {})
    result = judge.grade(read_submission(ROOT / "reference" / "exercise3.py"), judge.Options(seed=3))
    planned = tasks_of(plan(load_exercise(3), 3))
    runs, _ = same_tasks.merged(planned)
    assert len(runs) < len(planned)  # the training run's re-reads are one task
    assert sorted(sent) == [t.id for t in runs]
    assert reference == [[t.id for t in runs]]
    assert all(c.points == c.max_points for c in result.checks)
