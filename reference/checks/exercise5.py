"""Exercise 5 — the chain rule, checked with autograd. Checks, points, tolerances and inputs.

`chain_rule_holds` is fed consistent and inconsistent triples, some within a factor 2–3 of
the contract's tolerance (rtol 1e-5, atol 1e-6) on either side, and some at 0.6x and 1.5x the
relative tolerance (atol negligible) or 1.5x the absolute one (near 0), so that a tolerance
doubled or halved is caught (atol halved is not: see docs/AUTHORING.md). `manual_grad` is compared
with the reference's autograd (computed beside the reference's answer by the probe) and
with central finite differences of j in float64, computed here.
"""
from __future__ import annotations

from functools import partial
from typing import Any

import numpy as np

from grader.exercises import diagnose
from grader.exercises import gradcheck
from grader.exercises.casekit import arg, call_case, uniform
from grader.results.model import Failure
from grader.exercises.spec import Case, Check, Exercise
from grader.exercises.verdicts import all_of, info, kind_words, truth, unchanged, value
from grader.protocol.wire import Message

NAMES = ("dy2_dy1", "dy1_dw1", "dy2_dw1")
INPUTS = ("x", "w1", "b1", "w2", "b2")
RTOL, ATOL = 1e-5, 1e-6  # the contract's tolerance for chain_rule_holds


# -- chain_rule_grads ---------------------------------------------------------------------


def chain_case(rng: np.random.Generator, shape: tuple[int, ...], requires: tuple[str, ...] = (), note: str = "") -> Case:
    arrays = {name: uniform(rng, shape, 2.0) for name in INPUTS}
    return call_case(arrays, [arg(n, requires_grad=n in requires) for n in INPUTS], note)


def chain_cases(rng: np.random.Generator) -> list[Case]:
    return [chain_case(rng, shape) for shape in [(1,), (4,), (2, 3)]]


def chain_grad_cases(rng: np.random.Generator) -> list[Case]:
    return [chain_case(rng, (3,), INPUTS, "every input requires grad"),
            chain_case(rng, (2, 2), ("w1", "w2"), "w1 and w2 require grad")]


def untouched_cases(rng: np.random.Generator) -> list[Case]:
    return [chain_case(rng, (4,), (), "no input requires grad"), *chain_grad_cases(rng)]


def chain_item(i: int) -> Any:
    """Item i of the returned triple matches the reference; a reordering is named."""
    check = value(f"out.{i}", what=NAMES[i], noun="gradient")

    def verdict(case: Case, expected: Message, got: Message) -> Failure | None:
        out = info(got, "out") or {}
        if out.get("kind") not in ("tuple", "list") or out.get("length") != 3:
            return Failure(f"chain_rule_grads returned {kind_words(out)}, expected a triple ({', '.join(NAMES)})")
        failure = check(case, expected, got)
        if failure is None:
            return None
        order = diagnose.match_order([got.arrays.get(f"out.{j}") for j in range(3)],
                                     [expected.arrays[f"out.{j}"] for j in range(3)], NAMES)
        if order is not None:
            return Failure(f"{NAMES[i]} is in the wrong place: you returned ({', '.join(order)})",
                           diagnosis=diagnose.swapped_outputs(order, NAMES))
        return failure

    return verdict


def all_items(case: Case, expected: Message, got: Message) -> Failure | None:
    return all_of(*(chain_item(i) for i in range(3)))(case, expected, got)


def callers_untouched(case: Case, expected: Message, got: Message) -> Failure | None:
    """Values, requires_grad and .grad of every input as they were before the call."""
    failure = unchanged(*INPUTS, what="chain_rule_grads")(case, expected, got)
    if failure:
        return failure
    facts = got.header.get("info", {}).get("inputs") or {}
    for spec in case.params["args"]:
        name, fact = spec["name"], facts.get(spec["name"]) or {}
        if fact.get("requires_grad") != bool(spec.get("requires_grad")):
            now = "now requires grad" if fact.get("requires_grad") else "no longer requires grad"
            return Failure(f"the caller's `{name}` {now}",
                           hint="work on copies of the caller's tensors (detached and cloned), and ask for gradients on those")
        if fact.get("grad_is_none") is not True:
            return Failure(f"the caller's `{name}.grad` was written",
                           hint="use torch.autograd.grad, which returns the gradients instead of "
                                "accumulating them in .grad as backward() does")
    return None


# -- chain_rule_holds -----------------------------------------------------------------------


def triple_case(a: np.ndarray, b: np.ndarray, c: np.ndarray, holds: bool, note: str) -> Case:
    arrays = {"dy2_dy1": a, "dy1_dw1": b, "dy2_dw1": c}
    return call_case(arrays, [arg(n) for n in NAMES], note, context={"holds": holds})


def _triple(rng: np.random.Generator, shape: tuple[int, ...], dtype: Any = np.float32,
            low: float = 0.5, high: float = 3.0) -> tuple[np.ndarray, np.ndarray]:
    """Two factors with magnitudes in [low, high] (default [0.5, 3]): their products are where
    rtol decides, so the near-tolerance cases mean the same under atol 1e-6 and allclose's
    default 1e-8."""
    def factor() -> np.ndarray:
        return (rng.choice([-1.0, 1.0], size=shape) * rng.uniform(low, high, size=shape)).astype(dtype)

    return factor(), factor()


def _nudged(a: np.ndarray, b: np.ndarray, times: float, index: int) -> np.ndarray:
    """a * b with element `index` moved by `times` the contract's tolerance (float64)."""
    c = a * b
    flat = c.reshape(-1)
    flat[index] += times * (ATOL + RTOL * abs(flat[index]))
    return c


def relative_case(rng: np.random.Generator, relative: float, holds: bool) -> Case:
    """float32 factors of magnitude [1.5, 3.2], so products of magnitude [2.25, 10.24] where
    atol 1e-6 is at most 0.044x rtol 1e-5 of them; dy2_dw1 is every product moved by
    `relative` of itself (random signs), computed in float64 and rounded to float32 (the
    float32 product and the rounding move it by 1.2e-7 of itself at most)."""
    a, b = _triple(rng, (6,), np.float32, 1.5, 3.2)
    sign = rng.choice([-1.0, 1.0], size=a.shape)
    c = (a.astype(np.float64) * b * (1.0 + sign * relative)).astype(np.float32)
    note = f"float32, every element off by {relative:g} of itself (rtol {RTOL:g}; atol negligible)"
    return triple_case(a, b, c, holds, note)


def consistent_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    a, b = _triple(rng, (5,))
    cases.append(triple_case(a, b, a * b, True, "dy2_dw1 = dy2_dy1 * dy1_dw1 exactly"))
    a, b = _triple(rng, (2, 3))
    cases.append(triple_case(a, b, (a.astype(np.float64) * b).astype(np.float32), True, "rounded to float32"))
    # products in pairs of opposite sign (they sum to 0) and every error of one sign: within
    # tolerance element by element, outside it for a comparison of the sums, on every seed
    a, b = _triple(rng, (3,), np.float64)
    a, b = np.concatenate([a, a]), np.concatenate([b, -b])
    c = a * b
    c += 0.4 * (ATOL + RTOL * np.abs(c))
    cases.append(triple_case(a, b, c, True, "every element within 0.4× the tolerance, the products summing to 0"))
    cases.append(relative_case(rng, 6e-6, True))  # inside rtol 1e-5, outside rtol 5e-6
    return cases


def inconsistent_cases(rng: np.random.Generator) -> list[Case]:
    cases = []
    a, b = _triple(rng, (5,))
    c = a * b
    c[3] += 1.0
    cases.append(triple_case(a, b, c, False, "only element (3,) is off, by 1"))
    a, b = _triple(rng, (6,), np.float64)
    cases.append(triple_case(a, b, _nudged(a, b, 3.0, 4), False, "element (4,) is off by 3× the tolerance"))
    a, b = _triple(rng, (4,))
    c = a * b
    c[[1, 2]] = c[[2, 1]] if c[1] != c[2] else c[[1, 2]] + 1
    cases.append(triple_case(a, b, c, False, "the sums agree but elements (1,) and (2,) are swapped"))
    a, b = _triple(rng, (2, 2))
    cases.append(triple_case(a, b, -(a * b), False, "dy2_dw1 has the opposite sign"))
    cases.append(relative_case(rng, 1.5e-5, False))  # outside rtol 1e-5, inside rtol 2e-5
    return cases


def near_zero_cases(rng: np.random.Generator) -> list[Case]:
    a = np.zeros(4)
    b = uniform(rng, (4,), 3.0, np.float64)
    inside = np.array([5e-7, -5e-7, 2e-7, 0.0])
    outside = np.array([0.0, 3e-6, 0.0, 0.0])
    just_outside = np.array([2e-7, 0.0, -1.5e-6, 0.0])  # inside atol 2e-6
    return [triple_case(a, b, inside, True, "products of 0; dy2_dw1 within 5e-7 of 0 (atol 1e-6)"),
            triple_case(a, b, outside, False, "products of 0; element (1,) is 3e-6 away (atol 1e-6)"),
            triple_case(a, b, just_outside, False, "products of 0; element (2,) is 1.5e-6 away (atol 1e-6)")]


def type_cases(rng: np.random.Generator) -> list[Case]:
    a, b = _triple(rng, (3,))
    c = a * b
    d = c.copy()
    d[0] += 1.0
    return [triple_case(a, b, c, True, "consistent"), triple_case(a, b, d, False, "inconsistent")]


def holds_verdict(note: str = "") -> Any:
    """The answer's truth value is the reference's (bool-like answers accepted here)."""

    def verdict(case: Case, expected: Message, got: Message) -> Failure | None:
        want, have = truth(expected), truth(got)
        if have is None:
            return Failure(f"chain_rule_holds returned {kind_words(info(got, 'out'))}, not True or False")
        if have == want:
            return None
        return Failure(f"returned {have} for a triple where the chain rule {'holds' if want else 'does not hold'}",
                       diagnosis=note if want else "")

    return verdict


def python_bool(case: Case, expected: Message, got: Message) -> Failure | None:
    out = info(got, "out") or {}
    if out.get("kind") != "bool":
        return Failure(f"chain_rule_holds returned {kind_words(out)}"
                       + (f" ({out.get('dtype')})" if out.get("dtype") else "") + ", not a Python bool",
                       hint="wrap the result: bool(torch.allclose(...))")
    return holds_verdict()(case, expected, got)


# -- manual_grad ------------------------------------------------------------------------------


def manual_case(x: np.ndarray, note: str = "") -> Case:
    notes = []
    if x.ndim >= 2:
        rows = x.shape[0]
        notes.append((x.size / rows, f"you divided by len(x) = {rows} (the number of rows) instead of "
                                     f"x.numel() = {x.size}"))
    context = {"factors": {"n": x.size}, "factor_notes": notes}
    return call_case({"x": x}, [arg("x")], note or "under torch.no_grad(), x does not require grad",
                     context=context, no_grad=True, autograd="manual_j")


def manual_cases(rng: np.random.Generator) -> list[Case]:
    return [manual_case(uniform(rng, shape, 3.0)) for shape in [(5,), (3, 4), (2, 3, 2), (1,)]]


def manual_fd_cases(rng: np.random.Generator) -> list[Case]:
    return [manual_case(uniform(rng, shape, 3.0, np.float64), "float64, under torch.no_grad()")
            for shape in [(6,), (2, 5)]]


def objective(x: np.ndarray) -> float:
    """j = mean(2 (x + 1) ** 2), the forward of manual_grad."""
    return float(np.mean(2.0 * (x + 1.0) ** 2))


def against_fd(case: Case, expected: Message, got: Message) -> Failure | None:
    failure = value(what="the gradient", check_dtype=False, expected_key="autograd")(case, expected, got)
    if failure and failure.mismatch is None:  # kind or shape: nothing to differentiate against
        return failure
    g = got.arrays.get("out")
    if g is None:
        return Failure("the gradient carried no readable values")
    fd = gradcheck.central_diff(objective, case.arrays["x"])
    diag = partial(diagnose.value_diagnosis, g, fd, case.context["factors"], "gradient", case.context["factor_notes"])
    return gradcheck.gradient_failure(g, fd, "the gradient", "finite differences of j", diagnosis=diag)


MANUAL_HINT = "4 * (x + 1) / x.numel(): plain tensor arithmetic, no backward() or autograd.grad"

EXERCISE = Exercise(
    number=5,
    title="The chain rule, checked with autograd",
    reference=".exercise5",
    checks=(
        Check("chain_rule_grads", "dy2_dy1 is w2", 1, chain_cases, chain_item(0), probe="call_facts",
              hint="differentiate y2.sum() with respect to y1 with torch.autograd.grad, keeping the graph for the next calls"),
        Check("chain_rule_grads", "dy1_dw1 is x", 1, chain_cases, chain_item(1), probe="call_facts",
              hint="differentiate y1.sum() with respect to a copy of w1 that requires grad, keeping the graph"),
        Check("chain_rule_grads", "dy2_dw1 is w2 * x", 1, chain_cases, chain_item(2), probe="call_facts",
              hint="differentiate y2.sum() with respect to the same copy of w1"),
        Check("chain_rule_grads", "works when the inputs require grad", 1, chain_grad_cases, all_items,
              probe="call_facts", hint="detach the inputs you do not differentiate: x.detach(), ..."),
        Check("chain_rule_grads", "leaves the caller's tensors unchanged", 1, untouched_cases, callers_untouched,
              probe="call_facts", hint="differentiate copies; never call backward() on the caller's tensors", needs_result=True),
        Check("chain_rule_holds", "True for consistent triples", 2, consistent_cases, holds_verdict(),
              hint="compare the product dy2_dy1 * dy1_dw1 with dy2_dw1 element by element (rtol 1e-5, atol 1e-6) and return a Python bool"),
        Check("chain_rule_holds", "False for inconsistent triples", 2, inconsistent_cases, holds_verdict(),
              hint="compare every element (not the sums, not only the first), within rtol 1e-5 and atol 1e-6"),
        Check("chain_rule_holds", "uses the absolute tolerance 1e-6 near zero", 1, near_zero_cases,
              holds_verdict("near 0 the absolute tolerance decides: torch.allclose's default is atol=1e-8, "
                            "the exercise asks for atol=1e-6"),
              hint="torch.allclose(a, b, rtol=1e-5, atol=1e-6)"),
        Check("chain_rule_holds", "returns a Python bool", 1, type_cases, python_bool,
              hint="wrap the result: bool(torch.allclose(...))"),
        Check("manual_grad", "matches the reference's autograd under torch.no_grad()", 3, manual_cases,
              value(what="the gradient", expected_key="autograd", noun="gradient"), probe="call_facts",
              hint=MANUAL_HINT),
        Check("manual_grad", "agrees with finite differences of j (float64)", 1, manual_fd_cases, against_fd,
              probe="call_facts", hint=MANUAL_HINT),
    ),
    known_errors={"chain_rule_grads": (
        diagnose.KnownError("does not require grad", "torch.autograd.grad can only differentiate with respect to "
                                                     "a tensor that requires grad: differentiate a copy made to "
                                                     "require it"),
        diagnose.KnownError("backward through the graph a second time",
                            "a graph was differentiated twice: the earlier autograd.grad calls on it need "
                            "retain_graph=True"),
    )},
)
