"""Exercise 4 — ReLU and a two-layer perceptron. Checks, points, tolerances and inputs.

Backward passes are compared with the reference's autograd and with central finite
differences (float64) of the student's own forward, on inputs kept at least 1e-3 away from
ReLU's kink. `mlp` is checked with a trusted stand-in for `relu`, so a broken relu costs
points only in relu's checks.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from grader.exercises import diagnose
from grader.exercises.casekit import arg, call_case, uniform
from grader.results.model import Failure
from grader.exercises.spec import Case, Check, Exercise
from grader.exercises.verdicts import all_of, gradient, new_object, same_device, unchanged, value
from grader.protocol.wire import Message

from . import diagnoses

KINK = 1e-3  # inputs of ReLU stay at least this far from 0 in finite-difference checks
TRUSTED_RELU = {"trusted": ["relu"]}


# -- relu -------------------------------------------------------------------------------


def away_from_kink(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 2.0) -> np.ndarray:
    """Values in [-scale, -0.01] ∪ [0.01, scale], float64: never within KINK of 0."""
    magnitude = rng.uniform(0.01, scale, size=shape)
    return np.where(rng.random(shape) < 0.5, -magnitude, magnitude)


def relu_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for shape, scale in [((7,), 2.0), ((3, 4), 2.0), ((2, 3, 4), 5.0), ((6,), 1e4)]:
        X = uniform(rng, shape, scale)
        X.reshape(-1)[:2] = 0.0  # exact zeros: relu(0) = 0 either way
        cases.append(call_case({"X": X}, [arg("X")], "includes zeros"))
    # a transposed (non-contiguous) X, as a permuted batch is: X.view(-1) raises on it
    cases.append(call_case({"X": uniform(rng, (4, 3), 2.0)}, [arg("X") | {"layout": "non-contiguous"}],
                           "not contiguous"))
    return cases


def dtype_cases(rng: np.random.Generator) -> list[Case]:
    cases = [call_case({"X": uniform(rng, (4, 3), 2.0, dtype)}, [arg("X")], str(np.dtype(dtype)))
             for dtype in (np.float32, np.float64)]
    # The float32 X again, built on the CPU whatever the grading device (under --device cuda a
    # result made on a global CUDA device fails here; on a CPU grader it repeats case 1).
    return [*cases, call_case(cases[0].arrays, [arg("X") | {"device": "cpu"}], "float32, on the CPU")]


def relu_values(case: Case, expected: Message, got: Message) -> Failure | None:
    """Close to max(X, 0); a wrong relu is named from its values when it can be."""
    failure = value(what="relu(X)")(case, expected, got)
    data = got.arrays.get("out")
    if failure is None or failure.mismatch is None or data is None:
        return failure
    named = diagnoses.relu_values(data, case.arrays["X"])
    return Failure(failure.summary, failure.case, failure.mismatch, named or failure.diagnosis, failure.hint)


def backward_cases(rng: np.random.Generator, fd: bool = False) -> list[Case]:
    cases = []
    for shape in [(5,), (3, 4)]:
        arrays = {"X": away_from_kink(rng, shape), "upstream": uniform(rng, shape, 1.0, np.float64)}
        cases.append(call_case(arrays, [arg("X", requires_grad=True)],
                               "float64, |X| >= 0.01; backward with a random upstream gradient",
                               backward="upstream", **({"fd": ["X"]} if fd else {})))
    return cases


def backward_fd_cases(rng: np.random.Generator) -> list[Case]:
    return backward_cases(rng, fd=True)


def backward_ok(verdict: Any) -> Any:
    """backward() ran on the result before `verdict` judges the gradients."""

    def check(case: Case, expected: Message, got: Message) -> Failure | None:
        state = got.header.get("info", {}).get("backward") or {}
        if state.get("ok") is not True:
            return Failure(f"backward() could not run: {state.get('why', 'no result')}",
                           hint="build the result from the inputs with tensor operations only "
                                "(no .detach(), .numpy(), .item(), in-place changes of the input)")
        return verdict(case, expected, got)

    return check


def fd_ok(verdict: Any, fn: str) -> Any:
    """The finite differences of the student's forward could be computed."""

    def check(case: Case, expected: Message, got: Message) -> Failure | None:
        state = got.header.get("info", {}).get("fd") or {}
        if state.get("ok") is not True:
            return Failure(f"finite differences of your {fn} could not be computed: {state.get('why', 'no result')}")
        return verdict(case, expected, got)

    return check


def grads_match(names: list[str], fn: str, *, own_fd: bool) -> Any:
    """Each input's .grad against the reference's autograd, or against finite differences
    of the student's own forward (worst entry named)."""
    if own_fd:
        checks = [gradient(f"grad.{n}", f"fd.{n}", what=f"the gradient of {n}", from_expected=False,
                           source=f"finite differences of your {fn}", rtol=1e-5, atol=1e-7) for n in names]
        return backward_ok(fd_ok(all_of(*checks), fn))
    checks = [gradient(f"grad.{n}", f"grad.{n}", what=f"the gradient of {n}", source="the reference's autograd")
              for n in names]
    return backward_ok(all_of(*checks))


# -- mlp --------------------------------------------------------------------------------


def mlp_arrays(rng: np.random.Generator, x_shape: tuple[int, ...], sizes: tuple[int, int, int],
               dtype: Any = np.float32) -> dict[str, np.ndarray]:
    """Inputs and weights whose hidden pre-activations all stay at least 10 KINK from 0, and
    whose outputs (when there are two or more) take both signs: a ReLU wrongly applied to
    the output then always shows, instead of only on draws with a negative output."""
    k, h, o = sizes
    for _ in range(1000):
        X, W1, W2, b2 = (uniform(rng, s, 1.0, np.float64) for s in (x_shape, (k, h), (h, o), (o,)))
        b1 = uniform(rng, (h,), 1.0, np.float64)
        hidden = X.reshape(-1, k) @ W1 + b1
        out = np.maximum(hidden, 0) @ W2 + b2
        mixed = out.size < 2 or (out.min() <= -10 * KINK and out.max() >= 10 * KINK)
        if np.abs(hidden).min() >= 10 * KINK and mixed:
            break
    else:  # pragma: no cover - vanishingly unlikely
        raise AssertionError("could not keep the pre-activations away from 0")
    return {name: a.astype(dtype) for name, a in zip(("X", "W1", "b1", "W2", "b2"), (X, W1, b1, W2, b2))}


MLP_ARGS = ["X", "W1", "b1", "W2", "b2"]


def mlp_cases(rng: np.random.Generator) -> list[Case]:
    return [call_case(mlp_arrays(rng, (n, k), (k, h, o)), [arg(a) for a in MLP_ARGS], **TRUSTED_RELU)
            for n, k, h, o in [(1, 2, 3, 1), (6, 4, 5, 3), (32, 10, 16, 4)]]


def flatten_cases(rng: np.random.Generator) -> list[Case]:
    cases = [call_case(mlp_arrays(rng, shape, (k, 5, 2)), [arg(a) for a in MLP_ARGS], "X is not 2-D", **TRUSTED_RELU)
             for shape, k in [((3, 2, 3), 6), ((2, 4, 4), 16), ((12,), 4)]]
    # a non-contiguous X (a transposed view, as images permuted to channels-last are):
    # X.view(-1, k) raises there, the contract's X.reshape(-1, k) works
    x_arg = arg("X") | {"layout": "non-contiguous"}
    cases.append(call_case(mlp_arrays(rng, (2, 3, 4), (12, 5, 2)), [x_arg] + [arg(a) for a in MLP_ARGS[1:]],
                           "X is not 2-D and not contiguous", **TRUSTED_RELU))
    return cases


def mlp_backward_cases(rng: np.random.Generator, fd: bool = False) -> list[Case]:
    cases = []
    for n, k, h, o in [(3, 2, 4, 2), (2, 3, 3, 1)]:
        arrays = mlp_arrays(rng, (n, k), (k, h, o), np.float64) | {"upstream": uniform(rng, (n, o), 1.0, np.float64)}
        cases.append(call_case(arrays, [arg(a, requires_grad=True) for a in MLP_ARGS],
                               "float64, pre-activations >= 0.01 from 0; backward with a random upstream gradient",
                               backward="upstream", **({"fd": MLP_ARGS} if fd else {}), **TRUSTED_RELU))
    return cases


def mlp_fd_cases(rng: np.random.Generator) -> list[Case]:
    return mlp_backward_cases(rng, fd=True)


def mlp_values(case: Case, expected: Message, got: Message) -> Failure | None:
    """Close to the reference; a missing ReLU is named."""
    failure = value(what="the output")(case, expected, got)
    data = got.arrays.get("out")
    if failure is None or data is None or failure.mismatch is None:
        return failure
    a = {k: v.astype(np.float64) for k, v in case.arrays.items()}
    linear = (a["X"].reshape(-1, a["W1"].shape[0]) @ a["W1"] + a["b1"]) @ a["W2"] + a["b2"]
    if linear.shape == data.shape and np.allclose(data, linear, rtol=1e-4, atol=1e-5):
        return Failure(failure.summary, failure.case, failure.mismatch,
                       "the hidden layer has no ReLU: two linear layers in a row are still linear")
    return failure


RELU_HINT = "return a new tensor, e.g. torch.max(X, torch.zeros_like(X)) or torch.clamp(X, min=0)"
MLP_HINT = ("the hidden layer is relu of (X flattened to W1.shape[0] columns) @ W1 + b1; the output is that "
            "hidden layer @ W2 + b2")

EXERCISE = Exercise(
    number=4,
    title="ReLU and a two-layer perceptron",
    reference=".exercise4",
    checks=(
        Check("relu", "computes max(X, 0)", 2, relu_cases, relu_values, probe="call_facts", hint=RELU_HINT),
        Check("relu", "keeps X's dtype and device (float32 and float64)", 1, dtype_cases,
              all_of(value(what="relu(X)", kind="tensor"), same_device(what="relu(X)")), probe="call_facts",
              hint="torch.zeros(X.shape) is float32 on the CPU: use torch.zeros_like(X)"),
        Check("relu", "leaves X unchanged and returns a new tensor", 1, relu_cases,
              all_of(unchanged("X", what="relu"), new_object("X", "relu")), probe="call_facts",
              hint="do not write into X (no X[X < 0] = 0, no clamp_): " + RELU_HINT, needs_result=True),
        Check("relu", "backward: gradient 1 where X > 0, 0 where X < 0", 2, backward_cases,
              grads_match(["X"], "relu", own_fd=False), probe="backward_fd", hint=RELU_HINT),
        Check("relu", "backward agrees with finite differences of your relu", 1, backward_fd_cases,
              grads_match(["X"], "relu", own_fd=True), probe="backward_fd",
              hint="if you wrote a custom autograd.Function, its backward must match its forward"),
        Check("mlp", "computes relu(X @ W1 + b1) @ W2 + b2", 2, mlp_cases, mlp_values, probe="call_facts", hint=MLP_HINT),
        Check("mlp", "flattens X to (-1, num_inputs) first", 1, flatten_cases, value(what="the output"),
              probe="call_facts", hint="X.reshape(-1, W1.shape[0]) before the first matrix product"),
        Check("mlp", "backward reaches X, W1, b1, W2 and b2", 2, mlp_backward_cases,
              grads_match(MLP_ARGS, "mlp", own_fd=False), probe="backward_fd", hint=MLP_HINT),
        Check("mlp", "backward agrees with finite differences of your mlp", 1, mlp_fd_cases,
              grads_match(MLP_ARGS, "mlp", own_fd=True), probe="backward_fd", hint=MLP_HINT),
    ),
    known_errors={"*": diagnose.FORWARD_IN_PLACE + (
        diagnose.KnownError("view size is not compatible with input tensor's size and stride",
                            "X.view(...) needs contiguous memory, which a transposed or sliced X does not have: "
                            "X.reshape(...) works on any X", code=".view("),)},
)
