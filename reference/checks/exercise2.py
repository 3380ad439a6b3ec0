"""Exercise 2 — minibatch SGD. Checks, points, tolerances and inputs.

The `sgd_step` probe plants gradients on fresh leaf tensors, calls `sgd(params, lr,
batch_size)` and reports each parameter's values, identity, leaf status and `.grad`
afterwards; the verdicts below draw the conclusions.
"""
from __future__ import annotations

from typing import Any

import numpy as np

from grader.exercises import diagnose
from grader.exercises.casekit import describe_array, literal, uniform
from grader.results.model import Failure
from grader.exercises.spec import Case, Check, Exercise
from grader.exercises.verdicts import close_arrays, kind_words
from grader.protocol.wire import Message

SHAPE_SETS = (
    [(3, 1), (1,)],
    [(5, 4), (4,), (4, 2), (2,)],
    [(1, 1)],
)


def make_case(rng: np.random.Generator, shapes: list[tuple[int, ...]], lr: float, batch_size: int,
              none_grads: tuple[int, ...] = (), scale: float = 1.0) -> Case:
    """Parameters of the given shapes with planted gradients (None for `none_grads`)."""
    arrays: dict[str, np.ndarray] = {}
    specs = []
    for i, shape in enumerate(shapes):
        arrays[f"p{i}"] = uniform(rng, shape, scale)
        grad = None
        if i not in none_grads:
            arrays[f"g{i}"] = uniform(rng, shape, scale)
            grad = f"g{i}"
        specs.append({"array": f"p{i}", "grad": grad})
    params_desc = ", ".join(describe_array(f"p{i}", arrays[f"p{i}"]) for i in range(len(shapes)))
    nones = f"; .grad is None for p{', p'.join(map(str, none_grads))}" if none_grads else ""
    label = f"params [{params_desc}] with planted gradients{nones}; lr = {lr}, batch_size = {batch_size}"
    params = {"params": specs, "args": [literal("lr", lr), literal("batch_size", batch_size)]}
    return Case(label, arrays, params, {"lr": lr, "batch_size": batch_size, "none": none_grads})


def as_generator(case: Case) -> Case:
    """The same case with `params` passed as a one-shot generator, as net.parameters() is:
    code that loops over params twice (update, then clear) sees nothing the second time."""
    return Case(case.label.replace("params [", "params (a generator, like net.parameters()) [", 1), case.arrays,
                case.params | {"container": "generator"}, case.context)


def update_cases(rng: np.random.Generator) -> list[Case]:
    return [make_case(rng, SHAPE_SETS[0], 0.03, 10), make_case(rng, SHAPE_SETS[1], 0.5, 7),
            make_case(rng, SHAPE_SETS[2], 0.1, 1), make_case(rng, SHAPE_SETS[0], 1e-3, 256, scale=100.0),
            as_generator(make_case(rng, SHAPE_SETS[1], 0.1, 5))]


def unseen_cases(rng: np.random.Generator) -> list[Case]:
    """Hidden (runs at submission): float64 parameters, many of them, other lr and batch sizes."""
    many = [tuple(int(d) for d in rng.integers(1, 6, size=int(rng.integers(1, 4)))) for _ in range(7)]
    cases = [make_case(rng, many, float(rng.uniform(0.05, 0.9)), int(rng.integers(2, 64)))]
    f64 = make_case(rng, SHAPE_SETS[1], 0.25, 3)
    cases.append(Case(f64.label.replace("float32", "float64"), {k: v.astype(np.float64) for k, v in f64.arrays.items()},
                      f64.params, f64.context))
    return cases


def none_cases(rng: np.random.Generator) -> list[Case]:
    return [make_case(rng, SHAPE_SETS[1], 0.2, 4, none_grads=(1,)), make_case(rng, SHAPE_SETS[0], 0.2, 3, none_grads=(0,)),
            as_generator(make_case(rng, SHAPE_SETS[1], 0.2, 2, none_grads=(0, 2)))]


def _facts(got: Message) -> list[dict[str, Any]]:
    facts = got.header.get("info", {}).get("params")
    return facts if isinstance(facts, list) else []


def _param_info(got: Message, i: int) -> dict[str, Any]:
    info = got.header.get("info", {}).get(f"param.{i}")
    return info if isinstance(info, dict) else {}


def updates_values(case: Case, expected: Message, got: Message) -> Failure | None:
    """Each parameter ends at p - lr * grad / batch_size (judged on the update's size)."""
    for i, spec in enumerate(case.params["params"]):
        before = case.arrays[spec["array"]]
        want = expected.arrays[f"param.{i}"]
        have = got.arrays.get(f"param.{i}")
        if have is None or have.shape != want.shape:
            return Failure(f"could not read parameter {i} back after the call")
        if spec["grad"] is None:
            continue
        failure = close_arrays(have.astype(np.float64) - before, want.astype(np.float64) - before,
                               f"the update of p{i} (its value after minus before)", rtol=1e-4, atol=1e-6,
                               factors={"batch_size": case.context["batch_size"], "lr": case.context["lr"]})
        if failure is not None:
            if np.array_equal(have, before):
                return Failure(f"p{i} did not change", diagnosis=_unchanged_diagnosis(got, i),
                               hint="update the caller's tensor itself, in place (-= or an in-place method), outside autograd")
            return failure
    return None


def _unchanged_diagnosis(got: Message, i: int) -> str:
    facts = _facts(got)
    if i < len(facts) and not facts[i].get("same_object", True):
        return "sgd rebinds the list entry to a new tensor instead of updating the caller's tensor in place"
    return "the caller's tensor kept its old values: the update went to a copy (e.g. `p = p - ...` rebinds a local name)"


def keeps_leaves(case: Case, expected: Message, got: Message) -> Failure | None:
    """The caller's tensors stay the same leaf objects that require grad."""
    facts = _facts(got)
    for i in range(len(case.params["params"])):
        info = _param_info(got, i)
        if i >= len(facts) or not info:
            return Failure(f"could not read parameter {i} back after the call")
        if facts[i].get("same_object") is not True:
            return Failure(f"the params list holds a new object at position {i} after the call",
                           diagnosis="update the tensors themselves; do not replace them in the list")
        if info.get("is_leaf") is not True or info.get("requires_grad") is not True:
            return Failure(f"p{i} is no longer a leaf tensor that requires grad",
                           hint="do the update inside `with torch.no_grad():` so it is not recorded by autograd")
    return None


def clears_grads(case: Case, expected: Message, got: Message) -> Failure | None:
    """Each used gradient is None or all zeros afterwards."""
    for i, spec in enumerate(case.params["params"]):
        if spec["grad"] is None or i >= len(_facts(got)):
            continue
        grad = _facts(got)[i].get("grad") or {}
        if grad.get("kind") == "none":
            continue
        values = got.arrays.get(f"grad.{i}")
        if grad.get("kind") != "tensor":
            return Failure(f"p{i}.grad is {kind_words(grad)} after the call, expected None or a tensor of zeros",
                           hint="a .grad must stay a tensor (or None): zero it in place with p.grad.zero_(), "
                                "or set it to None")
        if values is None:
            return Failure(f"p{i}.grad could not be read after the call")
        if np.any(values != 0):
            seen = ("the gradients were not cleared: the next backward() would add to them"
                    if case.params.get("container") != "generator" else
                    "with params given as a generator (as net.parameters() is) the gradients were not cleared: "
                    "a generator can be looped over once only, so a second loop over params sees nothing")
            return Failure(f"p{i}.grad still holds {int(np.count_nonzero(values))} non-zero values after the call",
                           diagnosis=seen,
                           hint="after the update, call p.grad.zero_() (or set p.grad = None)")
    return None


def skips_none(case: Case, expected: Message, got: Message) -> Failure | None:
    """A parameter whose .grad is None is left as it was; the others are still updated."""
    for i in case.context["none"]:
        have = got.arrays.get(f"param.{i}")
        if have is None or not np.array_equal(have, case.arrays[f"p{i}"]):
            return Failure(f"p{i} has no gradient but was changed")
    return updates_values(case, expected, got)


EXERCISE = Exercise(
    number=2,
    title="Minibatch SGD",
    reference=".exercise2",
    checks=(
        Check("sgd", "updates each parameter by lr * grad / batch_size", 3, update_cases, updates_values,
              probe="sgd_step", hint="subtract lr times the gradient, divided by batch_size, from each parameter in place, outside autograd"),
        Check("sgd", "updates in place, keeping the same leaf tensors", 2, update_cases, keeps_leaves,
              probe="sgd_step", hint="modify each tensor in place (-=) under torch.no_grad(); never rebind it",
              needs_result=True),
        Check("sgd", "clears the gradients", 3, update_cases, clears_grads, probe="sgd_step",
              hint="call p.grad.zero_() after updating p", needs_result=True),
        Check("sgd", "skips parameters whose grad is None", 1, none_cases, skips_none, probe="sgd_step",
              hint="`if p.grad is None: continue`"),
        Check("sgd", "updates many float64 parameters with unseen lr and batch sizes", 1, unseen_cases,
              updates_values, probe="sgd_step", hint="subtract lr times the gradient, divided by batch_size, from each parameter in place, outside autograd",
              hidden=True),
    ),
    known_errors={"sgd": diagnose.SGD_ERRORS},
)
