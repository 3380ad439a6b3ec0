"""Every check's inputs, made from the seed in the judge (numpy only), and the tasks that carry them."""
from __future__ import annotations

from dataclasses import dataclass

from grader.exercises.spec import Case, Check, Exercise
from grader.judge.failures import grader_failure
from grader.protocol.jobs import Task
from grader.results.model import Failure


@dataclass(frozen=True)
class Planned:
    """A check with its cases and the task that runs each case; `broken`: its case maker raised
    (the grader's own failure: the check is reported as such, the others run as usual)."""

    check: Check
    cases: tuple[Case, ...]
    tasks: tuple[Task, ...]
    broken: Failure | None = None


def plan(exercise: Exercise, seed: int) -> list[Planned]:
    """Make every check's inputs from the seed; number the tasks."""
    planned, next_id = [], 0
    for check in exercise.checks:
        try:
            cases = tuple(check.cases(check.rng(seed)))
        except Exception as exc:  # a bug in this check's case maker costs only this check
            planned.append(Planned(check, (), (), grader_failure("case maker", exc)))
            continue
        tasks = []
        for case in cases:
            tasks.append(Task(next_id, check.function, check.probe, case.arrays, case.params))
            next_id += 1
        planned.append(Planned(check, cases, tuple(tasks)))
    return planned


def tasks_of(planned: list[Planned]) -> list[Task]:
    """Every task of `planned`, in order."""
    return [t for p in planned for t in p.tasks]
