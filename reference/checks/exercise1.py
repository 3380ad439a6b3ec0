"""Exercise 1 — squared loss. Checks, points, tolerances and inputs."""
from __future__ import annotations

import functools

import numpy as np

from grader.exercises import diagnose
from grader.exercises.casekit import arg, call_case, uniform
from grader.exercises.compare import rounding_atol
from grader.exercises.spec import Case, CaseMaker, Check, Exercise
from grader.exercises.verdicts import all_of, unchanged, value

SIZES = (1, 5, 32)


def rounded(maker: CaseMaker) -> CaseMaker:
    """Each case admits the float rounding of an equivalent form of the loss on its inputs.

    (y_hat*y_hat - 2*y_hat*y + y*y) / 2 is correct but rounds terms as large as
    (|y_hat| + |y|)² / 2: its error depends on those, not on the (possibly tiny) loss, so
    without this a random draw of y_hat close to y decided the verdict.
    """
    @functools.wraps(maker)  # the case maker's own name and source (the student bundle strips hidden ones)
    def cases(rng: np.random.Generator) -> list[Case]:
        out = []
        for case in maker(rng):
            y_hat, y = case.arrays["y_hat"], case.arrays["y"]
            big = (float(np.abs(y_hat).max(initial=0.0)) + float(np.abs(y).max(initial=0.0))) ** 2 / 2
            atol = rounding_atol(str(y_hat.dtype), big)
            out.append(Case(case.label, case.arrays, case.params, case.context | {"atol": {"out": atol}}))
        return out

    cases.__doc__ = maker.__doc__
    return cases


@rounded
def same_shape_cases(rng: np.random.Generator) -> list[Case]:
    """y shaped like y_hat: plain values, including n = 1 and large magnitudes."""
    cases = []
    for n, scale in [(1, 1.0), (6, 1.0), (40, 3.0), (9, 1e3)]:
        arrays = {"y_hat": uniform(rng, (n, 1), scale), "y": uniform(rng, (n, 1), scale)}
        cases.append(call_case(arrays, [arg("y_hat"), arg("y")], "large values" if scale > 10 else ""))
    return cases


@rounded
def column_cases(rng: np.random.Generator) -> list[Case]:
    """The classic trap: y of shape (n,) against y_hat of shape (n, 1)."""
    cases = []
    for n in (4, 17, 1):
        arrays = {"y_hat": uniform(rng, (n, 1), 2.0), "y": uniform(rng, (n,), 2.0)}
        cases.append(call_case(arrays, [arg("y_hat"), arg("y")], "y has shape (n,)"))
    arrays = {"y_hat": uniform(rng, (3, 4), 2.0), "y": uniform(rng, (12,), 2.0)}
    cases.append(call_case(arrays, [arg("y_hat"), arg("y")], "a (3, 4) prediction"))
    return cases


@rounded
def numpy_cases(rng: np.random.Generator) -> list[Case]:
    """numpy float64 arrays (y shaped like y_hat: the (n,) trap is the reshape check's)."""
    cases = []
    for n, y_shape in [(5, (5, 1)), (8, (8, 1)), (1, (1, 1))]:
        arrays = {"y_hat": uniform(rng, (n, 1), 2.0, np.float64), "y": uniform(rng, y_shape, 2.0, np.float64)}
        cases.append(call_case(arrays, [arg("y_hat", "numpy"), arg("y", "numpy")]))
    return cases


def gradient_cases(rng: np.random.Generator) -> list[Case]:
    """Backpropagate a random upstream gradient to y_hat."""
    cases = []
    for n in (1, 7, 25):
        arrays = {"y_hat": uniform(rng, (n, 1), 2.0), "y": uniform(rng, (n, 1), 2.0),
                  "upstream": uniform(rng, (n, 1), 1.0)}
        cases.append(call_case(arrays, [arg("y_hat", requires_grad=True), arg("y")],
                               "backward with a random upstream gradient", backward="upstream"))
    return cases


def mutation_cases(rng: np.random.Generator) -> list[Case]:
    """Inputs read back after the call, as tensors and as numpy arrays."""
    t = {"y_hat": uniform(rng, (6, 1), 2.0), "y": uniform(rng, (6,), 2.0)}
    n = {"y_hat": uniform(rng, (6, 1), 2.0, np.float64), "y": uniform(rng, (6, 1), 2.0, np.float64)}
    return [call_case(t, [arg("y_hat"), arg("y")]), call_case(n, [arg("y_hat", "numpy"), arg("y", "numpy")])]


@rounded
def unseen_cases(rng: np.random.Generator) -> list[Case]:
    """Hidden (runs at submission): float64 tensors, a 3-D prediction, a large batch, big values.

    What the public checks show, on inputs a student has not seen: a solution fitted to
    the public cases (a hard-coded shape, a float32 cast) fails here.
    """
    n = int(rng.integers(200, 600))
    return [
        call_case({"y_hat": uniform(rng, (7, 1), 5.0, np.float64), "y": uniform(rng, (7,), 5.0, np.float64)},
                  [arg("y_hat"), arg("y")], "float64 tensors"),
        call_case({"y_hat": uniform(rng, (2, 3, 4), 2.0), "y": uniform(rng, (24,), 2.0)},
                  [arg("y_hat"), arg("y")], "a (2, 3, 4) prediction"),
        call_case({"y_hat": uniform(rng, (n, 1), 1e2), "y": uniform(rng, (n,), 1e2)},
                  [arg("y_hat"), arg("y")], "a large batch of large values"),
    ]


KNOWN_ERRORS = diagnose.FORWARD_IN_PLACE + (
    diagnose.KnownError("as a data type", "numpy's .view() takes a dtype, not a shape: use .reshape(...), which "
                                          "tensors and numpy arrays both have", code=".view("),
)
LOSS_HINT = "the loss of each example is (y_hat - y) ** 2 / 2, with y reshaped to y_hat's shape and no sum or mean"

EXERCISE = Exercise(
    number=1,
    title="Squared loss",
    reference=".exercise1",
    checks=(
        Check("squared_loss", "matches the reference on tensors of one shape", 2, same_shape_cases,
              value(what="the loss"), hint=LOSS_HINT),
        Check("squared_loss", "reshapes y of shape (n,) to y_hat's shape", 3, column_cases,
              value(what="the loss"), hint="use y.reshape(y_hat.shape) before subtracting"),
        Check("squared_loss", "works on numpy arrays", 2, numpy_cases, value(what="the loss", kind="ndarray"),
              hint="use operations that numpy arrays support too: -, ** and reshape"),
        Check("squared_loss", "lets autograd flow to y_hat", 1, gradient_cases,
              value("grad.y_hat", what="the gradient of y_hat"),
              hint="build the loss from y_hat with tensor operations only (no .detach(), .numpy() or .item())"),
        Check("squared_loss", "leaves its inputs unchanged", 1, mutation_cases, all_of(unchanged(what="squared_loss")),
              hint="do not modify y_hat or y in place (no -=, no .sub_(), no y.resize_())", needs_result=True),
        Check("squared_loss", "matches the reference on unseen shapes and dtypes", 1, unseen_cases,
              value(what="the loss"), hint=LOSS_HINT, hidden=True),
    ),
    known_errors={"squared_loss": KNOWN_ERRORS},
)
