"""Diagnoses of the usual ML slips, in a TA's words, from got-versus-expected data."""
from __future__ import annotations

from dataclasses import dataclass
import hashlib
import re
from typing import Mapping, Sequence

import numpy as np

from grader.results.model import StudentError

KNOWN_FACTORS: tuple[tuple[float, str], ...] = (
    (2.0, "your result is 2× the expected one: did you drop the 1/2?"),
    (0.5, "your result is half the expected one: is there an extra 1/2 (or a missing factor 2)?"),
    (-1.0, "your result has the wrong sign"),
)


def constant_ratio(got: np.ndarray, expected: np.ndarray, rtol: float = 1e-3) -> float | None:
    """The c with got ≈ c · expected everywhere (None if there is no such constant)."""
    g = got.astype(np.float64).ravel()
    e = expected.astype(np.float64).ravel()
    mask = np.abs(e) > 1e-6 * max(1.0, float(np.abs(e).max(initial=0.0)))
    if mask.sum() == 0 or not np.all(np.isfinite(g)):
        return None
    ratios = g[mask] / e[mask]
    c = float(np.median(ratios))
    if not np.isfinite(c) or abs(c) < 1e-12:
        return None
    if np.allclose(g, c * e, rtol=rtol, atol=1e-6 * max(1.0, float(np.abs(g).max(initial=0.0)))):
        return c
    return None


def factor_message(c: float, factors: Mapping[str, float], noun: str = "result",
                   notes: Sequence[tuple[float, str]] = ()) -> str:
    """Explain a constant ratio c, naming the factor it matches when it can.

    `notes` are (ratio, message) pairs for slips particular to one check, tried first.
    """
    for value, message in notes:
        if abs(c - value) <= 1e-3 * abs(value):
            return message
    for value, message in KNOWN_FACTORS:
        if abs(c - value) <= 1e-3 * abs(value):
            return message.replace("your result", f"your {noun}", 1)
    for name, n in factors.items():
        if n not in (0, 1) and abs(c - n) <= 1e-3 * n:
            return f"your {noun} is {_num(n)}× the expected one ({name} = {_num(n)}): a sum where a mean belongs, or a missing 1/{name}?"
        if n not in (0, 1) and abs(c - 1 / n) <= 1e-3 / n:
            return f"your {noun} is 1/{_num(n)} of the expected one ({name} = {_num(n)}): divided by {name} once too often?"
        if n not in (0, 1) and abs(c - 2 * n) <= 2e-3 * n:
            return f"your {noun} is {_num(2 * n)}× the expected one: a sum instead of a mean over {name}, and no 1/2?"
    return f"your {noun} is the expected one times {c:.4g}: a constant factor is off"


def _num(n: float) -> str:
    return str(int(n)) if float(n).is_integer() else f"{n:g}"


def shape_diagnosis(got_shape: tuple[int, ...], expected_shape: tuple[int, ...]) -> str:
    """Name the broadcasting and transposition slips behind a wrong shape."""
    if got_shape == () and expected_shape:
        return "a single number instead of one value per element: the result must not be reduced (no sum or mean)"
    if len(expected_shape) in (1, 2) and len(got_shape) == 2:
        n = expected_shape[0]
        if got_shape == (n, n) and n > 1 and (len(expected_shape) == 1 or expected_shape[1] == 1):
            return (f"shape ({n}, {n}) instead of {tuple(expected_shape)}: a vector of shape ({n},) was broadcast "
                    f"against one of shape ({n}, 1) into ({n}, {n}); reshape it first (e.g. y.reshape(y_hat.shape))")
    if tuple(reversed(got_shape)) == tuple(expected_shape) and len(got_shape) == 2:
        return "the shape is the transpose of the expected one: are the operands or the result transposed?"
    if int(np.prod(got_shape)) == int(np.prod(expected_shape)):
        return f"the right number of values in the wrong shape: reshape to {tuple(expected_shape)}"
    return ""


def value_diagnosis(got: np.ndarray, expected: np.ndarray, factors: Mapping[str, float], noun: str = "result",
                    notes: Sequence[tuple[float, str]] = ()) -> str:
    """Explain wrong values of the right shape: constant factors, transposition."""
    c = constant_ratio(got, expected)
    if c is not None:
        message = factor_message(c, factors, noun, notes)
        generic = message.endswith("a constant factor is off")
        return "" if generic and int(np.count_nonzero(expected)) < 2 else message  # one value: any ratio fits
    if got.ndim == 2 and got.shape[0] == got.shape[1] and got.shape[0] > 1:
        if np.allclose(got, expected.T, rtol=1e-4, atol=1e-6):
            return "your result is the transpose of the expected one"
    return ""


# -- shapes and orders ----------------------------------------------------------------------


def broadcast_nn(n: int, name: str = "y") -> str:
    """The (n,) against (n, 1) slip, seen through a result that depends on it."""
    return (f"{name} of shape ({n},) broadcast against ({n}, 1) into ({n}, {n}): reshape it first "
            f"({name}.reshape(-1, 1))")


def swapped_outputs(got_order: Sequence[str], expected_order: Sequence[str]) -> str:
    """`swapped outputs: you returned (db, dw); return (dw, db)`."""
    return (f"swapped outputs: you returned ({', '.join(got_order)}); "
            f"return ({', '.join(expected_order)}) in that order")


def match_order(got: Sequence[np.ndarray | None], expected: Sequence[np.ndarray], names: Sequence[str],
                rtol: float = 1e-4, atol: float = 1e-6) -> list[str] | None:
    """The names in the order the student returned them, when `got` is a reordering of
    `expected` other than the identity; else None."""
    order: list[str] = []
    for g in got:
        hits = [names[j] for j, e in enumerate(expected)
                if g is not None and g.shape == e.shape and np.allclose(g, e, rtol=rtol, atol=atol)]
        if not hits:
            return None
        order.append(next((h for h in hits if h not in order), hits[0]))
    return order if order != list(names) and sorted(order) == sorted(names) else None


IN_PLACE = ("in place instead of a copy: compute into a new array/tensor "
            "and leave the caller's inputs alone")


def never_changed(name: str) -> str:
    """`b never changed during training` with the usual causes."""
    return (f"{name} never changed during training: is {name} in the list given to sgd, "
            f"and was it created with requires_grad=True?")


def stopped_short(mean_and_division: int | None) -> str:
    """Training that moved towards the true values and stopped short (the caller has seen
    that it did). `mean_and_division`: the batch size, only when the caller saw both a
    .mean() before backward() and sgd dividing by that batch size; None names no cause."""
    message = "training moved w and b towards the true values but stopped short: the steps are too small"
    if mean_and_division is None:
        return message
    return (message + f". A .mean() before backward() while sgd also divides by batch_size makes them "
            f"{mean_and_division}× too small: use .sum()")


DIVERGED = ("training diverged: the parameters grew instead of settling. Are the gradients cleared "
            "after each step, and is the step lr * grad / batch_size?")

UNSETTLED = ("training did not settle at the true values: are the gradients cleared after each step "
             "(the given sgd does it), and does the update subtract lr * grad / batch_size?")


# -- known PyTorch errors ------------------------------------------------------------------


@dataclass(frozen=True)
class KnownError:
    """An error a TA recognises: `pattern` in the message (and `code` in the failing line,
    when given, as evidence of where it came from) -> `advice`."""

    pattern: str
    advice: str
    code: str = ""
    function: str = ""  # only for errors raised by this graded function ('' for any)

    def matches(self, error: StudentError) -> bool:
        if self.pattern not in error.message:
            return False
        return not self.code or any(self.code in f.code for f in error.frames[-1:])


KnownErrors = tuple[KnownError, ...]

LEAF_IN_PLACE = "a leaf Variable that requires grad is being used in an in-place operation"
MODIFIED_IN_PLACE = "modified by an inplace operation"
# For an optimiser step (sgd, sgd_update): the update itself must not be recorded.
SGD_ERRORS: KnownErrors = (
    KnownError(LEAF_IN_PLACE, "autograd recorded an in-place update of a parameter: do the update inside "
                              "`with torch.no_grad():`"),
    KnownError("'NoneType'", "this line used a .grad that is None (a parameter that got no gradient): "
                             "skip those parameters", code=".grad"),
    KnownError("assigned grad expected to be a Tensor or None",
               "a .grad can only be a tensor or None, so `p.grad = 0.` is refused: zero it in place with "
               "p.grad.zero_(), or set it to None"),
    KnownError("'generator' has no len()", "params can be any iterable, e.g. the generator net.parameters(): "
                                          "loop with `for p in params` instead of len() and indexing"),
    KnownError("'generator' object does not support item assignment",
               "params can be any iterable, e.g. the generator net.parameters(): update each tensor in place "
               "instead of assigning new ones into params"),
    KnownError("'generator' object is not subscriptable", "params can be any iterable, e.g. the generator "
                                                         "net.parameters(): loop with `for p in params`"),
)
# For a function that computes a new tensor from its inputs (a loss, an activation):
# torch.no_grad() would cut the gradient here, so the advice is to stop writing in place.
FORWARD_IN_PLACE: KnownErrors = (
    KnownError(LEAF_IN_PLACE, "an in-place operation (-=, .sub_(), .clamp_(), X[...] = ...) on an input that "
                              "requires grad: compute a new tensor from the inputs instead of modifying them"),
    KnownError(MODIFIED_IN_PLACE, "a tensor autograd still needed was modified in place: compute a new tensor "
                                  "instead of writing into an existing one"),
)


def known_error(error: StudentError, entries: KnownErrors) -> str:
    """The advice of the first entry that matches `error`; '' if none does.

    The registry binds each check's entries in order: the exercise's for that function, the
    exercise's for every function ("*"), then the course's (see registry.Course.exercise)."""
    return next((entry.advice for entry in entries if entry.matches(error)), "")


# -- codes: a diagnosis as data -------------------------------------------------------------

_NUMBERS = re.compile(r"[-+]?\d+(?:\.\d+)?(?:e[-+]?\d+)?", re.I)


def code(text: str) -> str:
    """A stable code for a diagnosis: its wording with every number masked, slugged and hashed,
    so `shape (7, 7) instead of (7, 1)` and `shape (9, 9) instead of (9, 1)` share one code."""
    template = " ".join(_NUMBERS.sub("#", text).split())
    if not template:
        return ""
    words = re.findall(r"[a-z]+", template.lower())[:4]
    return "-".join(words + [hashlib.sha256(template.encode()).hexdigest()[:8]])
