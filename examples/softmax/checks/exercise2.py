"""Exercise 2 — cross_entropy(logits, labels): checks, points, tolerances and inputs (judge side)."""
from __future__ import annotations

import numpy as np

from grader.exercises.casekit import arg, call_case, uniform
from grader.exercises.spec import Case, Check, Exercise
from grader.exercises.verdicts import value


def _labels(rng: np.random.Generator, n: int, k: int) -> np.ndarray:
    return rng.integers(0, k, size=n).astype(np.int64)


def value_cases(rng: np.random.Generator) -> list[Case]:
    return [call_case({"logits": uniform(rng, (n, k), 3.0), "labels": _labels(rng, n, k)},
                      [arg("logits"), arg("labels")]) for n, k in ((1, 3), (8, 5), (32, 10))]


def large_cases(rng: np.random.Generator) -> list[Case]:
    return [call_case({"logits": uniform(rng, (6, 4), 200.0), "labels": _labels(rng, 6, 4)},
                      [arg("logits"), arg("labels")], "logits in [-200, 200]")]


def gradient_cases(rng: np.random.Generator) -> list[Case]:
    return [call_case({"logits": uniform(rng, (n, 4), 2.0), "labels": _labels(rng, n, 4),
                       "upstream": np.ones((), np.float32)},
                      [arg("logits", requires_grad=True), arg("labels")], "backward", backward="upstream")
            for n in (3, 12)]


HINT = "the mean over the batch of -log softmax(logits)[i, labels[i]], a 0-d tensor"

EXERCISE = Exercise(
    number=2,
    title="Cross-entropy",
    reference=".solutions.exercise2",
    checks=(
        Check("cross_entropy", "matches the reference", 3, value_cases, value(what="the loss"), hint=HINT),
        Check("cross_entropy", "is stable for large logits", 2, large_cases, value(what="the loss"),
              hint="use log-sum-exp with each row's maximum subtracted, not log(softmax(...))"),
        Check("cross_entropy", "lets autograd flow to the logits", 2, gradient_cases,
              value("grad.logits", what="the gradient of the logits"),
              hint="build the loss from the logits with tensor operations only (no .item(), no .numpy())"),
    ),
)
