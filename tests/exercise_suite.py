"""The tests every exercise shares: references, stubs, seeds, correct and buggy submissions.

A test module calls `suite(...)` and adds the returned tests to its globals, so pytest
collects them there; `graded(name)` grades `tests/submissions/exerciseN/<name>.py` once.
"""
from __future__ import annotations

from functools import lru_cache
from typing import Any, Callable

import pytest

from conftest import ROOT, SUBMISSIONS, failing_checks, failing_functions, grade
from grader.results import render as report
from grader.exercises.spec import load_exercise

# name -> (the functions that fail, a check that fails, its golden diagnosis or None)
Bugs = dict[str, tuple[list[str], "str | None", "str | None"]]


def suite(n: int, functions: set[str], bugs: Bugs, slow: frozenset[str] = frozenset()) -> dict[str, Callable[..., Any]]:
    """The shared tests for exercise `n`, plus `graded`."""
    folder = SUBMISSIONS / f"exercise{n}"

    @lru_cache(maxsize=None)
    def graded(name: str, seed: int = 1234):
        """Each submission is graded once per module (results are immutable data)."""
        return grade(folder / f"{name}.py", seed=seed)

    def test_every_contract_function_is_graded():
        assert set(load_exercise(n).functions) == functions

    def test_reference_full_marks_and_stub_zero():
        ref = grade(ROOT / f"reference/exercise{n}.py", seed=0)
        stub = grade(ROOT / f"exercises/exercise{n}.py", seed=0)
        assert ref.passed and ref.score == ref.max_score, failing_checks(ref)
        assert stub.score == 0 and failing_functions(stub) == functions

    @pytest.mark.slow
    def test_reference_and_stub_identical_under_ten_seeds():
        scores = set()
        for seed in range(10):
            ref = grade(ROOT / f"reference/exercise{n}.py", seed=seed)
            stub = grade(ROOT / f"exercises/exercise{n}.py", seed=seed)
            assert ref.passed, (seed, failing_checks(ref))
            scores.add((ref.score, ref.max_score, stub.score, tuple(c.points for c in ref.checks)))
        assert len(scores) == 1 and next(iter(scores))[2] == 0

    @pytest.mark.parametrize("name", sorted(p.stem for p in folder.glob("ok_*.py")))
    def test_correct_but_different_solutions_get_full_marks(name):
        result = graded(name)
        assert result.passed and result.score == result.max_score, failing_checks(result)

    def test_at_least_three_correct_and_ten_buggy_files():
        assert len(list(folder.glob("ok_*.py"))) >= 3
        assert len(list(folder.glob("bug_*.py"))) >= 10
        assert {p.stem for p in folder.glob("bug_*.py")} == set(bugs)

    @pytest.mark.parametrize("name", [pytest.param(b, marks=pytest.mark.slow) if b in slow else b for b in sorted(bugs)])
    def test_buggy_submission_fails_exactly_its_functions(name):
        fails, check, diagnosis = bugs[name]
        result = graded(name)
        assert failing_functions(result) == set(fails), failing_checks(result)
        if check is not None:
            found = {c.test_name: c for c in result.checks}[check]
            assert not found.passed
            if diagnosis is not None:
                assert found.failure.diagnosis == diagnosis
                assert diagnosis in report.render("terminal.txt.j2", result)

    return {k: v for k, v in locals().items() if k.startswith("test_")} | {"graded": graded}
