"""Exercise 1 — softmax(X): checks, points, tolerances and inputs (judge side: numpy only)."""
from __future__ import annotations

import numpy as np

from grader.exercises.casekit import arg, call_case, uniform
from grader.exercises.spec import Case, Check, Exercise
from grader.exercises.verdicts import all_of, close_arrays, unchanged, value
from grader.protocol.wire import Message
from grader.results.model import Failure


def value_cases(rng: np.random.Generator) -> list[Case]:
    """Small logits of a few shapes, one row and one column among them."""
    return [call_case({"X": uniform(rng, shape, 3.0)}, [arg("X")]) for shape in ((1, 5), (4, 3), (16, 10), (7, 1))]


def large_cases(rng: np.random.Generator) -> list[Case]:
    """Logits in the hundreds: exp() overflows float32 unless each row's maximum is subtracted."""
    return [call_case({"X": uniform(rng, (6, 4), 1.0) + 500.0}, [arg("X")], "logits near 500"),
            call_case({"X": uniform(rng, (3, 8), 800.0)}, [arg("X")], "logits in [-800, 800]")]


def shift_cases(rng: np.random.Generator) -> list[Case]:
    """The course's own probe: the same rows, shifted by a constant."""
    return [Case(f"X: tensor float32 (5, 4), shifted by {s:g}", {"X": uniform(rng, (5, 4), 2.0)}, {"shift": s})
            for s in (10.0, -30.0)]


def shift_invariant(case: Case, expected: Message, got: Message) -> Failure | None:
    """softmax(X + c) == softmax(X) row by row (needs no expected value)."""
    a, b = got.arrays.get("out"), got.arrays.get("shifted")
    if a is None or b is None or a.shape != b.shape:
        return Failure("softmax did not return a tensor for both inputs")
    return close_arrays(b.astype(np.float64), a.astype(np.float64), "softmax(X + c)", rtol=1e-4, atol=1e-6)


def unseen_cases(rng: np.random.Generator) -> list[Case]:
    """Hidden (runs at submission): float64 logits and a wide batch."""
    return [call_case({"X": uniform(rng, (3, 4), 5.0, np.float64)}, [arg("X")], "float64 logits"),
            call_case({"X": uniform(rng, (64, 50), 4.0)}, [arg("X")], "a wide batch")]


HINT = "softmax(X)[i, j] = exp(X[i, j]) / sum_k exp(X[i, k]): along each row, over the last dimension"

EXERCISE = Exercise(
    number=1,
    title="Softmax",
    reference=".solutions.exercise1",
    checks=(
        Check("softmax", "matches the reference", 3, value_cases, value(what="the probabilities"), hint=HINT),
        Check("softmax", "is stable for large logits", 2, large_cases, value(what="the probabilities"),
              hint="subtract each row's maximum before exp(): softmax does not change, exp() no longer overflows"),
        Check("softmax", "does not change when a row is shifted", 1, shift_cases, shift_invariant, probe="shifted",
              hint="softmax(X + c) equals softmax(X): normalise over the last dimension"),
        Check("softmax", "leaves its input unchanged", 1, value_cases, all_of(unchanged(what="softmax")),
              hint="do not modify X in place (no -=, no .sub_())"),
        Check("softmax", "matches the reference on unseen inputs", 1, unseen_cases, value(what="the probabilities"),
              hint=HINT, hidden=True),
    ),
)
