"""Gradient checks: central finite differences in float64 and worst-entry reports.

numpy only: the judge uses it on the contract's own formulas, and the worker's probes
hand it the student's forward (wrapped as a numpy function) to differentiate there.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from grader.exercises import compare
from grader.results.model import Failure, Mismatch

STEP = 1e-6
# Central differences in float64 with STEP are accurate to ~1e-9 on smooth functions.
RTOL, ATOL = 1e-5, 1e-7


def central_diff(f: Callable[[np.ndarray], float], x: np.ndarray, step: float = STEP) -> np.ndarray:
    """The gradient of scalar `f` at `x` by central differences, entry by entry, in float64."""
    x = np.array(x, dtype=np.float64, copy=True)
    grad = np.zeros_like(x)
    flat, out = x.reshape(-1), grad.reshape(-1)
    for i in range(flat.size):
        saved = flat[i]
        flat[i] = saved + step
        up = float(f(x))
        flat[i] = saved - step
        down = float(f(x))
        flat[i] = saved
        out[i] = (up - down) / (2 * step)
    return grad


def partials(f: Callable[..., float], args: dict[str, np.ndarray], step: float = STEP) -> dict[str, np.ndarray]:
    """Central differences of `f(**args)` with respect to each named argument."""
    result = {}
    for name, value in args.items():
        def along(v: np.ndarray, name: str = name) -> float:
            return f(**(args | {name: v}))

        result[name] = central_diff(along, value, step)
    return result


def worst_entry(got: np.ndarray, reference: np.ndarray) -> tuple[str, float, float, float]:
    """(index, got, reference, |difference|) at the entry where they differ most."""
    g, r = got.astype(np.float64).reshape(reference.shape), reference.astype(np.float64)
    diff = np.where(np.isfinite(g), np.abs(g - r), np.inf)
    if diff.size == 0:
        return "()", 0.0, 0.0, 0.0
    index = np.unravel_index(int(np.argmax(diff)), r.shape)
    return compare.fmt_index(tuple(index)), float(g[index]), float(r[index]), float(diff[index])


def gradient_failure(got: np.ndarray, reference: np.ndarray, what: str, source: str, rtol: float = RTOL,
                     atol: float = ATOL, diagnosis: str | Callable[[], str] = "") -> Failure | None:
    """None when `got` matches `reference` (a gradient from `source`); else the worst entry.
    `diagnosis` may be a function, called only for a failure (it compares the arrays again)."""
    if got.shape != reference.shape:
        return Failure(f"{what} has shape {tuple(got.shape)}, the gradient has shape {tuple(reference.shape)}")
    found: Mismatch | None = compare.mismatch(got.astype(np.float64), reference.astype(np.float64), rtol, atol)
    if found is None:
        return None
    index, g, r, d = worst_entry(got, reference)
    return Failure(f"{what} disagrees with {source} in {found.mismatched} of {found.total} entries; worst entry "
                   f"{index}: got {compare.fmt_value(g)}, expected {compare.fmt_value(r)} (difference {d:.3g})",
                   mismatch=found, diagnosis=diagnosis() if callable(diagnosis) else diagnosis)
