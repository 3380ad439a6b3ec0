"""Exercises 1-2: references score full marks, stubs score 0, verdicts do not depend on the seed."""
from __future__ import annotations

import pytest

from conftest import ROOT, SUBMISSIONS, failing_checks, failing_functions, grade

EXERCISES = (1, 2)
SEEDS = range(10)


@pytest.mark.parametrize("n", EXERCISES)
def test_reference_scores_full_marks(n: int) -> None:
    result = grade(ROOT / f"reference/exercise{n}.py")
    assert result.submission_error is None
    assert result.score == result.max_score > 0
    assert result.passed


@pytest.mark.parametrize("n", EXERCISES)
def test_stub_scores_zero_saying_not_implemented(n: int) -> None:
    result = grade(ROOT / f"exercises/exercise{n}.py")
    assert result.score == 0 and not result.passed
    assert all("not implemented yet" in c.failure.summary for c in result.checks)
    assert all(c.failure.error is None or c.failure.error.type == "NotImplementedError" for c in result.checks)


@pytest.mark.parametrize("n", EXERCISES)
def test_stub_notebook_scores_zero(n: int) -> None:
    result = grade(ROOT / f"exercises/exercise{n}.ipynb")
    assert result.score == 0 and result.max_score > 0


def _files() -> list:
    return [ROOT / f"reference/exercise{n}.py" for n in EXERCISES] + sorted(
        p for n in EXERCISES for p in (SUBMISSIONS / f"exercise{n}").glob("*.py"))


@pytest.mark.parametrize("path", _files(), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_verdicts_do_not_vary_with_the_seed(path) -> None:
    verdicts = {frozenset(failing_checks(grade(path, seed=s))) for s in SEEDS}
    assert len(verdicts) == 1, verdicts
