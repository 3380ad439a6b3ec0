"""Correct-but-different and buggy submissions for exercises 1-2: exactly the right checks fail."""
from __future__ import annotations

import pytest

from conftest import SUBMISSIONS, failing_checks, grade

LOSS = "squared_loss: "
SGD = "sgd: "
LOSS_HIDDEN = LOSS + "matches the reference on unseen shapes and dtypes"  # hidden: runs at submission
SGD_HIDDEN = SGD + "updates many float64 parameters with unseen lr and batch sizes"  # hidden
# file -> (checks that must fail, words the report must contain)
EXPECTED: dict[str, tuple[set[str], tuple[str, ...]]] = {
    "exercise1/ok_numpy_style.py": (set(), ()),
    "exercise1/ok_view_as.py": (set(), ()),
    "exercise1/ok_helper.py": (set(), ()),
    "exercise1/bug_broadcast.py": ({LOSS + "reshapes y of shape (n,) to y_hat's shape", LOSS_HIDDEN}, ("broadcast",)),
    "exercise1/bug_no_half.py": ({LOSS_HIDDEN, LOSS + "matches the reference on tensors of one shape",
                                  LOSS + "reshapes y of shape (n,) to y_hat's shape", LOSS + "works on numpy arrays",
                                  LOSS + "lets autograd flow to y_hat"}, ("did you drop the 1/2?",)),
    "exercise1/bug_mean.py": ({LOSS_HIDDEN, LOSS + "matches the reference on tensors of one shape",
                               LOSS + "reshapes y of shape (n,) to y_hat's shape", LOSS + "works on numpy arrays",
                               LOSS + "lets autograd flow to y_hat"}, ("must not be reduced",)),
    "exercise1/bug_torch_only.py": ({LOSS + "works on numpy arrays"}, ("a torch.Tensor, expected a numpy array",)),
    "exercise1/bug_detach.py": ({LOSS + "lets autograd flow to y_hat"}, ("not connected to the autograd graph",)),
    "exercise1/bug_inplace.py": ({LOSS + "leaves its inputs unchanged", LOSS + "lets autograd flow to y_hat"},
                                 ("changed its input `y_hat` in place",)),
    "exercise1/ok_fragile_expanded.py": (set(), ()),  # issue 13.6: float32 rounding of an equivalent form
    "exercise1/bug_nearly_half.py": ({LOSS_HIDDEN, LOSS + "matches the reference on tensors of one shape",
                                      LOSS + "reshapes y of shape (n,) to y_hat's shape", LOSS + "works on numpy arrays",
                                      LOSS + "lets autograd flow to y_hat"}, ("differs from the expected values",)),
    "exercise1/bug_view_numpy.py": ({LOSS + "works on numpy arrays", LOSS + "leaves its inputs unchanged"},
                                    ("could not check this", "takes a dtype, not a shape")),
    "exercise2/ok_two_pass_list.py": (set(), ()),
    "exercise2/ok_alpha.py": (set(), ()),
    "exercise2/bug_two_pass.py": ({SGD + "clears the gradients"}, ("were not cleared", "a generator")),
    "exercise2/bug_len_params.py": ({SGD + "updates each parameter by lr * grad / batch_size",
                                     SGD + "updates in place, keeping the same leaf tensors", SGD + "clears the gradients",
                                     SGD + "skips parameters whose grad is None"}, ("loop with `for p in params`",)),
    "exercise2/bug_grad_float_zero.py": ({SGD_HIDDEN, SGD + "updates each parameter by lr * grad / batch_size",
                                          SGD + "updates in place, keeping the same leaf tensors",
                                          SGD + "clears the gradients", SGD + "skips parameters whose grad is None"},
                                         ("`p.grad = 0.` is refused",)),
    "exercise2/bug_none_unrelated.py": ({SGD_HIDDEN, SGD + "updates each parameter by lr * grad / batch_size",
                                         SGD + "updates in place, keeping the same leaf tensors",
                                         SGD + "clears the gradients", SGD + "skips parameters whose grad is None"},
                                        ("'NoneType'",)),
    "exercise2/ok_data.py": (set(), ()),
    "exercise2/ok_none.py": (set(), ()),
    "exercise2/ok_foreach.py": (set(), ()),
    "exercise2/bug_no_batch.py": ({SGD_HIDDEN, SGD + "updates each parameter by lr * grad / batch_size",
                                   SGD + "skips parameters whose grad is None"}, ("missing 1/batch_size",)),
    "exercise2/bug_no_zero.py": ({SGD + "clears the gradients"}, ("were not cleared",)),
    "exercise2/bug_rebind.py": ({SGD_HIDDEN, SGD + "updates each parameter by lr * grad / batch_size",
                                 SGD + "updates in place, keeping the same leaf tensors",
                                 SGD + "skips parameters whose grad is None",
                                 SGD + "clears the gradients"}, ("new object",)),  # a generator: params[i] = ... raises
    "exercise2/bug_no_nograd.py": ({SGD_HIDDEN, SGD + "updates each parameter by lr * grad / batch_size",
                                    SGD + "updates in place, keeping the same leaf tensors",
                                    SGD + "clears the gradients", SGD + "skips parameters whose grad is None"},
                                   ("torch.no_grad()",)),
    "exercise2/bug_none_crash.py": ({SGD + "skips parameters whose grad is None"}, ("raised TypeError",)),
    "exercise2/bug_local.py": ({SGD_HIDDEN, SGD + "updates each parameter by lr * grad / batch_size",
                                SGD + "skips parameters whose grad is None",
                                SGD + "clears the gradients"}, ("did not change",)),  # two loops over a generator
}


def _text(result) -> str:
    parts = []
    for c in result.checks:
        if c.failure:
            parts += [c.failure.summary, c.failure.diagnosis, c.failure.hint]
    return "\n".join(parts)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_exactly_the_right_checks_fail(name: str) -> None:
    must_fail, words = EXPECTED[name]
    result = grade(SUBMISSIONS / name)
    assert failing_checks(result) == must_fail
    assert result.submission_error is None
    for word in words:
        assert word in _text(result), (word, _text(result))
    assert result.score == result.max_score - sum(c.max_points for c in result.checks if not c.passed)


def test_every_submission_file_is_listed() -> None:
    files = {f"{p.parent.name}/{p.name}" for n in (1, 2) for p in (SUBMISSIONS / f"exercise{n}").glob("*.py")}
    assert files == set(EXPECTED)
