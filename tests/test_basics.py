"""Bad and hostile basics: each is a graded failure with a clear message, never a grader traceback."""
from __future__ import annotations

import time

import pytest

from conftest import SUBMISSIONS, grade

B = SUBMISSIONS / "basics"


def _all_failed(result) -> bool:
    return result.score == 0 and all(not c.passed for c in result.checks)


@pytest.mark.parametrize("name, words", [
    ("exit0_at_import.py", "sys.exit()"),
    ("os_exit_at_import.py", "crashed while loading"),
    ("syntax_error.py", "syntax error"),
    ("import_error.py", "d2l_torch_helpers_not_installed"),
    ("raises_at_import.py", "NameError"),
])
def test_failures_while_loading_are_a_submission_test_worth_zero(name: str, words: str) -> None:
    result = grade(B / name)
    assert _all_failed(result)
    first = result.checks[0]
    assert first.function == "submission" and first.max_points == 0 and not first.passed
    assert words in first.failure.summary + first.failure.error.message if first.failure.error else words in first.failure.summary
    # every check of the exercise is still listed, failed
    assert {c.test_name for c in result.checks[1:]} == {c.test_name for c in grade(B.parent.parent.parent / "reference/exercise1.py").checks}


def test_syntax_error_names_file_and_line() -> None:
    failure = grade(B / "syntax_error.py").submission_error
    assert failure.error.frames[-1].file == "syntax_error.py" and failure.error.frames[-1].line == 2


def test_import_loop_times_out_within_the_limit() -> None:
    t = time.monotonic()
    result = grade(B / "loop_at_import.py", timeout=3)
    assert time.monotonic() - t < 10
    assert _all_failed(result) and "timed out" in result.submission_error.summary


def test_hanging_function_costs_only_its_own_checks_and_the_limit() -> None:
    t = time.monotonic()
    result = grade(B / "loop_in_function.py", timeout=4)
    assert time.monotonic() - t < 12
    assert _all_failed(result)
    assert "did not finish in time" in result.checks[0].failure.summary
    assert all("timed out earlier" in c.failure.summary for c in result.checks[1:])


@pytest.mark.parametrize("name, words", [
    ("os_exit_in_function.py", "crashed the process"),
    ("segfault.py", "SIGSEGV"),
    ("patched_allclose.py", "differs from the expected values"),
    ("always_equal.py", "is a Yes, expected a torch.Tensor"),
    ("tensor_subclass.py", "tensor subclass Liar"),
    ("nan_answers.py", "NaN or Inf"),
    ("wrong_signature.py", "cannot be called as squared_loss"),
    ("missing_function.py", "`squared_loss` is not defined"),
    ("huge_answer.py", "could not be used"),
    ("deep_error.py", "raised RuntimeError"),
])
def test_bad_answers_score_zero_with_a_clear_message(name: str, words: str) -> None:
    result = grade(B / name)
    assert result.submission_error is None
    failed = {c.name for c in result.checks if not c.passed}
    # whatever the trick, no check that looks at the returned values passes
    assert failed >= {c.name for c in result.checks if c.name != "leaves its inputs unchanged"}
    messages = " | ".join(c.failure.summary for c in result.checks if c.failure)
    assert words in messages


def test_student_traceback_keeps_only_student_frames() -> None:
    failure = grade(B / "deep_error.py").checks[0].failure
    frames = failure.error.frames
    assert [f.function for f in frames] == ["squared_loss", "_inner"]
    assert all(f.file == "deep_error.py" for f in frames) and frames[-1].line == 6
    assert frames[-1].code == "return a.reshape(-1, 3)"


def test_printed_output_is_shown_but_never_scored() -> None:
    result = grade(B / "exit0_at_import.py")
    assert "Score: 10/10" in result.output and result.score == 0
