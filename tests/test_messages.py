"""Golden text of failure messages (summary, input, mismatch table, diagnosis, hint).

Regenerate after an intended change with `GOLDEN_UPDATE=1 python -m pytest tests/test_messages.py`.
"""
from __future__ import annotations

import json
import os
from dataclasses import asdict
from pathlib import Path

import numpy as np
import pytest

from conftest import SUBMISSIONS, grade
from grader.exercises.compare import mismatch

GOLDEN = Path(__file__).parent / "golden_messages"
CASES = ["exercise1/bug_no_half.py", "exercise1/bug_broadcast.py", "exercise1/bug_mean.py",
         "exercise2/bug_no_batch.py", "exercise2/bug_no_zero.py", "exercise2/bug_rebind.py",
         "exercise2/bug_no_nograd.py", "basics/nan_answers.py",
         # issue 13.5: advice only from its evidence; checks that could not run say why
         "exercise1/bug_view_numpy.py", "exercise1/bug_mean.py", "exercise1/bug_inplace.py",
         "exercise2/bug_grad_float_zero.py", "exercise2/bug_none_unrelated.py", "exercise2/bug_none_crash.py",
         "exercise2/bug_two_pass.py", "exercise2/bug_len_params.py",
         "exercise4/bug_relu_inplace.py", "exercise4/bug_mlp_view.py"]


def _messages(path: Path) -> str:
    result = grade(path, seed=5)
    failures = {c.test_name: asdict(c.failure) for c in result.checks if c.failure}
    return json.dumps(failures, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("name", CASES)
def test_failure_messages_match_golden_text(name: str) -> None:
    text = _messages(SUBMISSIONS / name)
    golden = GOLDEN / (name.replace("/", "__").removesuffix(".py") + ".json")
    if os.environ.get("GOLDEN_UPDATE"):
        golden.write_text(text, encoding="utf-8")
    assert text == golden.read_text(encoding="utf-8")


def test_mismatch_summary_like_assert_close() -> None:
    expected = np.array([[1.0, 2.0], [3.0, 4.0]], dtype=np.float32)
    got = expected.copy()
    got[1, 0] = 3.5
    got[0, 1] = np.nan
    m = mismatch(got, expected, rtol=1e-5, atol=1e-5)
    assert (m.mismatched, m.total) == (2, 4)
    assert m.max_abs == pytest.approx(0.5) and m.max_abs_index == "(1, 0)"
    assert m.max_rel == pytest.approx(0.5 / 3) and m.max_rel_index == "(1, 0)"
    assert [(r.index, r.got, r.expected) for r in m.rows] == [("(0, 1)", "nan", "2"), ("(1, 0)", "3.5", "3")]
    assert m.nonfinite == ("(0, 1)=nan",) and m.nonfinite_count == 1
    assert mismatch(expected, expected.copy(), 0, 0) is None


def test_mismatch_statistics_cover_mismatched_finite_elements_only() -> None:
    """NaN/Inf are counted and located apart; no placeholder stands in for a difference."""
    expected = np.array([1.0, 2.0, 0.0, 4.0], dtype=np.float32)
    only_nan = expected.copy()
    only_nan[[0, 3]] = [np.nan, np.inf]
    m = mismatch(only_nan, expected, rtol=1e-5, atol=1e-5)
    assert (m.mismatched, m.nonfinite_count) == (2, 2)
    assert m.max_abs is None and m.max_rel is None and m.max_abs_index == ""
    assert m.nonfinite == ("(0)=nan", "(3)=inf")
    mixed = expected.copy()
    mixed[0], mixed[2], mixed[3] = np.nan, 0.5, 4.0 + 1e-7  # (3,) is within tolerance
    m = mismatch(mixed, expected, rtol=1e-5, atol=1e-5)
    assert (m.mismatched, m.nonfinite_count) == (2, 1)
    assert m.max_abs == pytest.approx(0.5) and m.max_abs_index == "(2)"
    assert m.max_rel is None  # the only finite mismatch has an expected value of 0


def test_no_placeholder_reaches_a_report() -> None:
    from conftest import grade as grade_file
    from grader.results import render as report

    text = report.render("terminal.txt.j2", grade_file(SUBMISSIONS / "basics/nan_answers.py", seed=5))
    assert "-1 at index" not in text and "(7 in all)" in text
