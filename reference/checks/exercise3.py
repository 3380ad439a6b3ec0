"""Exercise 3 — linear regression. Checks, points, tolerances and inputs.

`linreg_grad` is compared with the autograd gradient of the reference's forward and with
central finite differences (float64) of the contract's loss, taken here in numpy. `train_linreg` runs once, watched
(probe `train`), and four checks judge that run, one of them the signature's defaults (read by
the probe beside the run), which no training result can see (the check's data is learned as
well with lr 0.015 or 0.06, 6 epochs, or batch size 5 or 20).
"""
from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from grader.exercises import diagnose
from grader.exercises import gradcheck
from grader.exercises.casekit import arg, call_case, describe_array, uniform
from grader.results.model import Failure
from grader.exercises.spec import Case, Check, Exercise
from grader.exercises.verdicts import all_of, close_arrays, describe_form, info, kind_words, value
from grader.protocol.wire import Message

from . import diagnoses

TRUE_W, TRUE_B, TOLERANCE = (2.0, -3.4), 4.2, 0.05
DEFAULTS = {"lr": 0.03, "num_epochs": 3, "batch_size": 10}  # train_linreg(features, labels, lr=0.03, ...)
CONTRACT_CALL = "train_linreg(features, labels, " + ", ".join(f"{k}={v!r}" for k, v in DEFAULTS.items()) + ")"
NORMAL_RTOL, NORMAL_ATOL = 1e-6, 1e-8  # least squares in float64 on well-conditioned data


# -- linreg ---------------------------------------------------------------------------


def linreg_arrays(rng: np.random.Generator, n: int, d: int, dtype: Any = np.float32) -> dict[str, np.ndarray]:
    return {"X": uniform(rng, (n, d), 2.0, dtype), "w": uniform(rng, (d, 1), 2.0, dtype),
            "b": uniform(rng, (1,), 2.0, dtype)}


def linreg_cases(rng: np.random.Generator) -> list[Case]:
    cases = [call_case(linreg_arrays(rng, n, d), [arg("X"), arg("w"), arg("b")]) for n, d in [(1, 1), (6, 2), (40, 5)]]
    cases.append(call_case(linreg_arrays(rng, 10, 3, np.float64), [arg("X"), arg("w"), arg("b")], "float64"))
    return cases


def linreg_grad_flow_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    for n, d in [(5, 2), (12, 3)]:
        arrays = linreg_arrays(rng, n, d) | {"upstream": uniform(rng, (n, 1), 1.0)}
        cases.append(call_case(arrays, [arg("X"), arg("w", requires_grad=True), arg("b", requires_grad=True)],
                               "backward with a random upstream gradient", backward="upstream"))
    return cases


def backward_reached(*names: str) -> Any:
    """The result was connected to the graph and each named input got the reference's .grad."""
    checks = [value(f"grad.{n}", what=f"the gradient of {n}", noun="gradient") for n in names]

    def verdict(case: Case, expected: Message, got: Message) -> Failure | None:
        state = got.header.get("info", {}).get("backward") or {}
        if state.get("ok") is not True:
            return Failure(f"backward() could not run: {state.get('why', 'no result')}",
                           hint="build the result from the inputs with tensor operations only "
                                "(no .detach(), .numpy(), .item() or torch.tensor(...) of them)")
        return all_of(*checks)(case, expected, got)

    return verdict


# -- linreg_grad ------------------------------------------------------------------------


def grad_case(rng: np.random.Generator, n: int, d: int, y_column: bool, **params: Any) -> Case:
    arrays = {"X": uniform(rng, (n, d), 2.0, np.float64), "y": uniform(rng, (n, 1) if y_column else (n,), 3.0, np.float64),
              "w": uniform(rng, (d, 1), 2.0, np.float64), "b": uniform(rng, (1,), 2.0, np.float64)}
    specs = [arg("X", "numpy"), arg("y", "numpy"), arg("w", "numpy"), arg("b", "numpy")]
    return call_case(arrays, specs, context={"factors": {"n": n}}, **params)


def linreg_grad_cases(rng: np.random.Generator) -> list[Case]:
    return [grad_case(rng, n, d, col, own_forward=True) for n, d, col in [(8, 2, False), (5, 1, True), (30, 4, False),
                                                                          (1, 3, False), (6, 6, True)]]


def fd_cases(rng: np.random.Generator) -> list[Case]:
    return [grad_case(rng, n, d, col, own_forward=True) for n, d, col in [(7, 2, False), (4, 3, True)]]


def _pair(got: Message, names: tuple[str, str], what: str) -> Failure | None:
    """The answer is a pair (tuple or list) of two values."""
    out = info(got, "out") or {}
    if out.get("kind") not in ("tuple", "list") or out.get("length") != 2:
        return Failure(f"{what} returned {kind_words(out)}, expected a pair ({', '.join(names)})")
    return None


def _swapped(got: Message, expected: Message, exp_keys: tuple[str, str], names: tuple[str, str]) -> Failure | None:
    order = diagnose.match_order([got.arrays.get("out.0"), got.arrays.get("out.1")],
                                 [expected.arrays[k] for k in exp_keys], names)
    if order is None:
        return None
    return Failure(f"the two results are in the wrong order: you returned ({', '.join(order)})",
                   diagnosis=diagnose.swapped_outputs(order, names))


def _shape_failure(name: str, got_info: dict[str, Any], exp_shape: tuple[int, ...], case: Case,
                   kind: str = "ndarray") -> Failure | None:
    """Kind and shape of one returned value, with the usual slips named."""
    if got_info.get("kind") not in (kind, "numpy scalar") or (got_info.get("kind") == "numpy scalar" and name != "db"):
        return Failure(f"{name} is {kind_words(got_info)}, expected {kind_words({'kind': kind})} of shape {exp_shape}")
    shape = tuple(got_info.get("shape", ()))
    if got_info.get("kind") == "numpy scalar" or shape != exp_shape:
        return Failure(f"{name} is {describe_form(got_info) if shape else 'a single number'}, expected shape {exp_shape}",
                       diagnosis=_shape_diagnosis(name, shape, exp_shape, case))
    return None


def _shape_diagnosis(name: str, shape: tuple[int, ...], exp_shape: tuple[int, ...], case: Case) -> str:
    y = case.arrays.get("y")
    n = int(case.arrays["X"].shape[0])
    if y is not None and y.ndim == 1 and n > 1 and n in shape and exp_shape and n not in exp_shape:
        return diagnose.broadcast_nn(n)
    if name in ("db", "b"):
        return diagnoses.wrong_shape(name, shape, exp_shape)
    return diagnose.shape_diagnosis(shape, exp_shape)


def gradient_pair(source: str, reference: tuple[str, str], from_expected: bool) -> Any:
    """(dw, db) in form and shape, then close to the reference gradients (worst entry named)."""
    names = ("dw", "db")

    def verdict(case: Case, expected: Message, got: Message) -> Failure | None:
        failure = _pair(got, names, "linreg_grad")
        if failure:
            return failure
        exp_w = expected.arrays["autograd.dw"]
        swapped = _swapped(got, expected, ("autograd.dw", "autograd.db"), names)
        if swapped:
            return swapped
        for i, (name, shape) in enumerate([(names[0], exp_w.shape), (names[1], (1,))]):
            failure = _shape_failure(name, info(got, f"out.{i}") or {}, tuple(shape), case)
            if failure:
                return failure
        refs = _references(case, expected, got, reference, from_expected)
        if isinstance(refs, Failure):
            return refs
        src, ref_w, ref_b = refs
        for i, (name, ref) in enumerate([(names[0], ref_w), (names[1], ref_b)]):
            g = got.arrays.get(f"out.{i}")
            if g is None or g.dtype.kind != "f":
                return Failure(f"{name} does not hold floating-point values")
            failure = gradcheck.gradient_failure(g, ref, name, src, *_tolerance(from_expected), diagnosis=partial(
                diagnose.value_diagnosis, g, ref, case.context["factors"], "gradient"))
            if failure:
                return failure
        return None

    return verdict


def _tolerance(from_expected: bool) -> tuple[float, float]:
    return (1e-7, 1e-9) if from_expected else (gradcheck.RTOL, gradcheck.ATOL)


def _references(case: Case, expected: Message, got: Message, keys: tuple[str, str],
                from_expected: bool) -> tuple[str, np.ndarray, np.ndarray] | Failure:
    """Where the reference gradients come from: the reference's autograd, or central
    differences of the contract's loss, computed here in numpy (float64). Never from the
    submission's own forward, which it could freeze or steer."""
    if from_expected:
        return "the reference's autograd", expected.arrays[keys[0]], expected.arrays[keys[1]]
    found = gradcheck.partials(lambda w, b: _loss(case, w, b), {"w": case.arrays["w"], "b": case.arrays["b"]})
    return "finite differences of the loss", found["w"], found["b"]


def _loss(case: Case, w: np.ndarray, b: np.ndarray) -> float:
    X, y = case.arrays["X"], case.arrays["y"].reshape(-1, 1)
    return float(np.mean(0.5 * (X @ w + b - y) ** 2))


# -- normal_equation -----------------------------------------------------------------------


def normal_case(rng: np.random.Generator, n: int, d: int, noise: float, y_column: bool) -> Case:
    X = rng.normal(0.0, 1.0, (n, d)) + rng.uniform(-1, 1, (1, d))
    w_true, b_true = rng.uniform(-3, 3, (d, 1)), rng.choice([-1, 1]) * rng.uniform(1.0, 10.0)
    y = (X @ w_true + b_true + rng.normal(0.0, noise, (n, 1))).reshape((n, 1) if y_column else (n,))
    note = f"y = X @ w + {b_true:.3g} + noise({noise:g})"
    return call_case({"X": X, "y": y}, [arg("X", "numpy"), arg("y", "numpy")], note)


def normal_cases(rng: np.random.Generator) -> list[Case]:
    return [normal_case(rng, n, d, noise, False) for n, d, noise in [(50, 3, 0.1), (200, 5, 0.01), (10, 2, 0.0),
                                                                   (20, 1, 0.5)]]


def normal_column_cases(rng: np.random.Generator) -> list[Case]:
    return [normal_case(rng, 30, 2, 0.1, True), normal_case(rng, 12, 1, 0.0, True)]


def fits_intercept(case: Case, expected: Message, got: Message) -> Failure | None:
    """(w, b) in form, then close to the reference's least-squares fit."""
    names = ("w", "b")
    failure = _pair(got, names, "normal_equation") or _swapped(got, expected, ("out.0", "out.1"), names)
    if failure:
        return failure
    d = int(case.arrays["X"].shape[1])
    for i, (name, shape) in enumerate([("w", (d, 1)), ("b", (1,))]):
        failure = _shape_failure(name, info(got, f"out.{i}") or {}, shape, case)
        if failure:
            return failure
    for i, name in enumerate(names):
        g, e = got.arrays.get(f"out.{i}"), expected.arrays[f"out.{i}"]
        if g is None:
            return Failure(f"{name} does not hold numbers")
        failure = close_arrays(g.astype(np.float64), e, name, NORMAL_RTOL, NORMAL_ATOL)
        if failure:
            return _no_intercept(case, got) or failure
    return None


def _no_intercept(case: Case, got: Message) -> Failure | None:
    X, y = case.arrays["X"], case.arrays["y"].reshape(-1, 1)
    w0, *_ = np.linalg.lstsq(X, y, rcond=None)
    w, b = got.arrays.get("out.0"), got.arrays.get("out.1")
    if w is not None and w.shape == w0.shape and np.allclose(w, w0, rtol=1e-4, atol=1e-6) or (
            b is not None and b.size == 1 and float(b.reshape(-1)[0]) == 0.0):
        return Failure("w and b are the fit without an intercept",
                       diagnosis="the fit has no intercept: add a column of ones to X so that b is fitted too")
    return None


# -- train_linreg ----------------------------------------------------------------------------


def train_cases(rng: np.random.Generator) -> list[Case]:
    """The contract's data: 1000 examples, y = X @ [2, -3.4] + 4.2 + noise(0.01)."""
    features = rng.normal(0.0, 1.0, (1000, 2)).astype(np.float32)
    labels = (features.astype(np.float64) @ np.array(TRUE_W) + TRUE_B + rng.normal(0.0, 0.01, 1000)).astype(np.float32)
    arrays = {"features": features, "labels": labels}
    label = (f"{describe_array('features', features)}; {describe_array('labels', labels)} "
             f"(y = X @ [2, -3.4] + 4.2 + noise(0.01)); default lr, num_epochs and batch_size")
    return [Case(label, arrays, {"args": [arg("features"), arg("labels")], "seed": int(rng.integers(2**31)),
                                 "defaults": list(DEFAULTS)})]


def reuse_cases(rng: np.random.Generator) -> list[Case]:
    """The same training run as the first train_linreg check (probe `train` remembers it)."""
    return [Case("the training run above", {}, {"reuse": True})]


def returns_shapes(case: Case, expected: Message, got: Message) -> Failure | None:
    names = ("w", "b")
    failure = _pair(got, names, "train_linreg")
    if failure:
        return failure
    forms = [info(got, f"out.{i}") or {} for i in range(2)]
    shapes = [tuple(f.get("shape", ())) for f in forms]
    if shapes == [(1,), (2, 1)]:
        return Failure("the two results are in the wrong order: you returned (b, w)",
                       diagnosis=diagnose.swapped_outputs(("b", "w"), names))
    for name, form, want in zip(names, forms, [(2, 1), (1,)]):
        if form.get("kind") not in ("tensor", "ndarray"):
            return Failure(f"{name} is {kind_words(form)}, expected a tensor of shape {want}")
        if tuple(form.get("shape", ())) != want:
            return Failure(f"{name} is {describe_form(form)}, expected shape {want}",
                           diagnosis=diagnoses.wrong_shape(name, tuple(form.get("shape", ())), want))
    return None


def _learned(got: Message) -> tuple[np.ndarray, np.ndarray] | Failure:
    """w (2 values) and b (1 value) as float64 vectors, matched by size."""
    values = [got.arrays.get(f"out.{i}") for i in range(2)]
    if any(v is None or v.dtype.kind not in "fiu" for v in values):
        return Failure("could not read two numeric results (w, b) back")
    flat = [v.astype(np.float64).reshape(-1) for v in values]  # type: ignore[union-attr]
    if sorted(v.size for v in flat) != [1, 2]:
        return Failure(f"expected w with 2 values and b with 1, got {flat[0].size} and {flat[1].size} values")
    return (flat[0], flat[1]) if flat[0].size == 2 else (flat[1], flat[0])


def recovers(case: Case, expected: Message, got: Message) -> Failure | None:
    failure = _pair(got, ("w", "b"), "train_linreg")
    learned = failure or _learned(got)
    if isinstance(learned, Failure):
        return learned
    w, b = learned
    true_w, true_b = np.array(TRUE_W), np.array([TRUE_B])
    summary = (f"after training w = [{', '.join(f'{v:.4g}' for v in w)}] and b = {b[0]:.4g}; expected within "
               f"{TOLERANCE} of w = [2, -3.4] and b = 4.2")
    if not (np.isfinite(w).all() and np.isfinite(b).all()):
        return Failure(summary, diagnosis=diagnoses.DIVERGED)
    if np.all(np.abs(w - true_w) <= TOLERANCE) and np.all(np.abs(b - true_b) <= TOLERANCE):
        return None
    return Failure(summary, diagnosis=_training_diagnosis(got, w, b, true_w, true_b))


def _training_diagnosis(got: Message, w: np.ndarray, b: np.ndarray, true_w: np.ndarray, true_b: np.ndarray) -> str:
    first_w, first_b = got.arrays.get("first.w"), got.arrays.get("first.b")
    for name, final, first in (("b", b, first_b), ("w", w, first_w)):
        start = first.reshape(-1) if first is not None and first.size == final.size else None
        if (start is not None and np.array_equal(final, start)) or (start is None and name == "b" and np.all(final == 0)):
            return diagnoses.never_changed(name)
    start_w = first_w.reshape(-1) if first_w is not None and first_w.size == 2 else np.zeros(2)
    start_b = first_b.reshape(-1) if first_b is not None and first_b.size == 1 else np.zeros(1)
    start, final, true = (np.concatenate(p) for p in ((start_w, start_b), (w, b), (true_w, true_b)))
    if np.abs(final - true).max() > 10 * max(np.abs(start - true).max(), 1.0):
        return diagnoses.DIVERGED
    if np.all((final - start) * (true - final) > 0):  # every value on its way, none arrived
        return diagnoses.stopped_short(10)
    return diagnoses.UNSETTLED


def from_scratch(case: Case, expected: Message, got: Message) -> Failure | None:
    failure = _pair(got, ("w", "b"), "train_linreg")
    if failure:
        return failure
    facts = got.header.get("info", {}).get("training") or {}
    optimizers, steps = facts.get("optimizers") or [], facts.get("optimizer_steps", 0)
    writes = facts.get("optimizer_writes", 0)
    if optimizers or steps or writes:
        used = ", ".join(f"torch.optim.{o}" for o in optimizers) or "a torch.optim optimiser"
        return Failure(f"train_linreg used {used} ({max(steps, writes)} optimiser steps)",
                       hint="update w and b with the given sgd(params, lr, batch_size), not torch.optim")
    if facts.get("linear_calls", 0):
        return Failure(f"train_linreg called nn.Linear {facts['linear_calls']} times",
                       hint="the model is linreg(X, w, b) with your own tensors w and b, not nn.Linear")
    if facts.get("linreg_calls", 1) == 0 and facts.get("sgd_calls", 1) == 0 and facts.get("backward_calls", 1) == 0:
        return Failure("train_linreg never called linreg, sgd or backward(): nothing was trained by minibatch SGD",
                       hint="for each minibatch: the loss of linreg(X, w, b), backward(), then sgd([w, b], lr, "
                            "batch_size)")
    return None


# -- train_linreg on other data: it must learn from what it is given -------------------------


def other_data_cases(rng: np.random.Generator) -> list[Case]:
    """1000 examples with true weights drawn from the seed, away from the published ones."""
    while True:
        true_w = rng.choice([-1, 1], 2) * rng.uniform(1.0, 4.0, 2)
        true_b = float(rng.choice([-1, 1]) * rng.uniform(1.0, 5.0))
        if np.abs(true_w - np.array(TRUE_W)).max() > 0.5 and abs(true_b - TRUE_B) > 0.5:
            break
    features = rng.normal(0.0, 1.0, (1000, 2)).astype(np.float32)
    labels = (features.astype(np.float64) @ true_w + true_b + rng.normal(0.0, 0.01, 1000)).astype(np.float32)
    label = (f"{describe_array('features', features)}; {describe_array('labels', labels)} "
             "(other true weights); default lr, num_epochs and batch_size")
    return [Case(label, {"features": features, "labels": labels},
                 {"args": [arg("features"), arg("labels")], "seed": int(rng.integers(2**31)), "remember": False,
                  "watch": False},  # judged by what it learns alone: UsageMode's cost (40% of the run) spared
                 {"w": [float(v) for v in true_w], "b": true_b})]


def learns_other_data(case: Case, expected: Message, got: Message) -> Failure | None:
    failure = _pair(got, ("w", "b"), "train_linreg")
    learned = failure or _learned(got)
    if isinstance(learned, Failure):
        return learned
    w, b = learned
    true_w, true_b = np.array(case.context["w"]), np.array([case.context["b"]])
    if np.isfinite(w).all() and np.isfinite(b).all() and np.all(np.abs(w - true_w) <= TOLERANCE) \
            and np.all(np.abs(b - true_b) <= TOLERANCE):
        return None
    return Failure(f"on data made with other true weights, train_linreg returned w = "
                   f"[{', '.join(f'{v:.4g}' for v in w)}] and b = {b[0]:.4g}, more than {TOLERANCE} from them",
                   hint="learn w and b from the features and labels you are given")


# -- train_linreg keeps the contract's defaults ----------------------------------------------


NOT_NUMBERS = ("a str", "a bool", "a list", "a tuple", "a dict", "a tensor", "an array", "inf or nan", "an object")


def defaults_cases(rng: np.random.Generator) -> list[Case]:
    """The training run above, whose probe also read the signature's defaults (a function that
    does not train, such as the stub, does not get this point for its signature alone)."""
    return [Case("the signature of train_linreg, read beside the training run above", {}, {"reuse": True})]


def _default_problem(name: str, fact: dict[str, Any], var_keyword: bool) -> str | None:
    want = DEFAULTS[name]
    state = fact.get("state")
    if state == "value":
        got = fact.get("value")
        number = type(got) in (int, float) and abs(got) < 2**53
        if number and (got == want if type(want) is int else abs(got - want) <= 1e-6 * want):
            return None
        return f"{name} defaults to {got!r}, expected {want!r}" if number or got is None \
            else f"the default of {name} could not be read, expected {want!r}"
    if state == "no default":
        return f"{name} has no default, expected {want!r}"
    if state == "absent":  # with **kwargs the function may still take it by name: not judged
        return None if var_keyword else f"there is no parameter {name}, expected {name}={want!r}"
    if state == "not a number":
        kind = fact.get("kind") if fact.get("kind") in NOT_NUMBERS else "an object"
        return f"{name} defaults to {kind}, expected {want!r}"
    return f"the default of {name} could not be read, expected {want!r}"


def keeps_defaults(case: Case, expected: Message, got: Message) -> Failure | None:
    """Every contract default present and equal (lr within 1e-6 of itself: float32 0.03 is fine)."""
    facts = info(got, "signature") or {}
    if facts.get("ok") is not True:
        return Failure("could not read the signature of train_linreg"
                       + (f" ({facts['why'][:60]})" if isinstance(facts.get("why"), str) else ""),
                       hint=f"define it with def {CONTRACT_CALL}:")
    defaults = facts.get("defaults") if isinstance(facts.get("defaults"), dict) else {}
    problems = [p for name in DEFAULTS
                if (p := _default_problem(name, defaults.get(name) if isinstance(defaults.get(name), dict) else {},
                                          facts.get("var_keyword") is True))]
    if not problems:
        return None
    wanted = ", ".join(f"{k}={v!r}" for k, v in DEFAULTS.items())
    return Failure(f"train_linreg(features, labels) must work with the contract's defaults {wanted}: "
                   + "; ".join(problems))


GRAD_HINT = ("with r = X @ w + b - y.reshape(-1, 1) (shape (n, 1)): dw = X.T @ r / n and "
             "db = r.sum(axis=0) / n; return (dw, db)")

EXERCISE = Exercise(
    number=3,
    title="Linear regression",
    reference=".exercise3",
    weights={"train_linreg": 4.0},
    known_errors={"train_linreg": diagnose.SGD_ERRORS},  # the optimiser step's errors (issue 13.5)
    checks=(
        Check("linreg", "computes X @ w + b", 2, linreg_cases, value(what="the prediction"),
              hint="use the matrix product X @ w (not X * w), then add b"),
        Check("linreg", "lets autograd flow to w and b", 1, linreg_grad_flow_cases, backward_reached("w", "b"),
              hint="use tensor operations only (@ and +), so that backward() reaches w and b"),
        Check("linreg_grad", "matches the reference's autograd", 3, linreg_grad_cases,
              gradient_pair("the reference's autograd", ("autograd.dw", "autograd.db"), True), probe="loss_grad",
              hint=GRAD_HINT),
        Check("linreg_grad", "agrees with finite differences of the loss", 1, fd_cases,
              gradient_pair("finite differences", ("fd.dw", "fd.db"), False), probe="loss_grad", hint=GRAD_HINT),
        Check("normal_equation", "fits w and b, with an intercept", 3, normal_cases, fits_intercept,
              hint="add a column of ones: X1 = [1, X]; solve (X1.T X1) θ = X1.T y; b = θ[:1], w = θ[1:]"),
        Check("normal_equation", "accepts y of shape (n, 1)", 1, normal_column_cases, fits_intercept,
              hint="flatten or reshape y consistently: y.reshape(-1, 1)"),
        Check("train_linreg", "returns w of shape (d, 1) and b of shape (1,)", 1, train_cases, returns_shapes,
              probe="train", hint="return (w, b) with w of shape (d, 1) and b of shape (1,)"),
        Check("train_linreg", "recovers w = [2, -3.4] and b = 4.2 within 0.05", 4, reuse_cases, recovers,
              probe="train", hint="for each minibatch: the squared loss of linreg's prediction, summed, then "
                                  "backward(), then the given sgd on [w, b] with lr and batch_size"),
        Check("train_linreg", "trains from scratch (no torch.optim, no nn.Linear)", 1, reuse_cases, from_scratch,
              probe="train"),
        Check("train_linreg", "keeps the contract's defaults lr=0.03, num_epochs=3, batch_size=10", 1,
              defaults_cases, keeps_defaults, probe="train", hint=f"def {CONTRACT_CALL}:", needs_result=True),
        Check("train_linreg", "learns other true weights from the data it is given", 1, other_data_cases,
              learns_other_data, probe="train", hidden=True),
    ),
)
