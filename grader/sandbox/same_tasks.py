"""Tasks that ask the same thing run once: one answer, judged by every check that asked.

Both workers apply it where they are run: the student's in `run.run`, the reference's in
`reference.start_reference`/`collect_reference`; every caller still sees an answer per task.

Two checks of one function whose cases come from the same random stream (`Check.inputs`) and
the same case maker plan equal tasks, such as one training run judged for its weights and for
its time. Equal means the same function, probe and params, and arrays equal in dtype, shape
and every value. The first of them runs (in the student's worker and the reference's); its
answer, with the judge's clock on it, stands for the others.
"""
from __future__ import annotations

from typing import TypeVar

import numpy as np

from grader.protocol.jobs import Task

T = TypeVar("T")


def merged(tasks: list[Task]) -> tuple[list[Task], dict[int, int]]:
    """The tasks to run, and each left-out task's id -> the id of the equal task that runs."""
    runs: list[Task] = []
    same: dict[int, int] = {}
    for task in tasks:
        twin = next((r for r in runs if _equal(r, task)), None)
        if twin is None:
            runs.append(task)
        else:
            same[task.id] = twin.id
    return runs, same


def spread(answers: dict[int, T], same: dict[int, int]) -> dict[int, T]:
    """`answers` with each left-out task given its twin's answer (where it has one)."""
    return {**answers, **{dup: answers[run] for dup, run in same.items() if run in answers}}


def _equal(a: Task, b: Task) -> bool:
    if (a.function, a.probe) != (b.function, b.probe) or a.arrays.keys() != b.arrays.keys():
        return False
    try:
        if a.params != b.params:
            return False
    except Exception:  # params that do not compare (arrays in them): not the same
        return False
    return all(_same_array(a.arrays[k], b.arrays[k]) for k in a.arrays)


def _same_array(x: np.ndarray, y: np.ndarray) -> bool:
    return x is y or (x.dtype == y.dtype and x.shape == y.shape and bool(np.array_equal(x, y)))
