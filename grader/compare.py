"""Closeness of arrays with per-dtype tolerances, summarised like torch.testing."""
from __future__ import annotations

import numpy as np

from .result import Mismatch, Row

# (rtol, atol) by dtype name, as torch.testing.assert_close, float32 slightly wider
# because correct solutions may reduce in another order.
TOLERANCES: dict[str, tuple[float, float]] = {
    "float16": (1e-3, 1e-5),
    "bfloat16": (1.6e-2, 1e-5),
    "float32": (1e-5, 1e-5),
    "float64": (1e-7, 1e-7),
}
MAX_ROWS = 5


def tolerance(dtype: str, rtol: float | None = None, atol: float | None = None) -> tuple[float, float]:
    """The (rtol, atol) for `dtype`, each overridable."""
    base = TOLERANCES.get(dtype, (0.0, 0.0))
    return (base[0] if rtol is None else rtol, base[1] if atol is None else atol)


def rounding_atol(dtype: str, magnitude: float, ulps: float = 8.0) -> float:
    """An absolute tolerance admitting `ulps` roundings of terms as large as `magnitude`.

    Algebraically equivalent forms (a square expanded, a sum reordered) differ by the
    rounding of their largest intermediate terms, not of the result: e.g.
    (a*a - 2*a*b + b*b) / 2 against (a - b) ** 2 / 2 loses digits of a² when a ≈ b.
    """
    eps = float(np.finfo(np.dtype(dtype)).eps) if dtype in TOLERANCES and dtype != "bfloat16" else 0.0
    return max(TOLERANCES.get(dtype, (0.0, 0.0))[1], ulps * eps * float(magnitude))


def fmt_index(index: tuple[int, ...]) -> str:
    return "(" + ", ".join(str(int(i)) for i in index) + ")" if index else "()"


def fmt_value(value: float) -> str:
    return f"{float(value):.6g}"


def nonfinite_positions(got: np.ndarray, expected: np.ndarray | None = None, limit: int = 5) -> tuple[str, ...]:
    """Where `got` holds NaN or Inf (and `expected`, if given, does not)."""
    bad = ~np.isfinite(got.astype(np.float64, copy=False))
    if expected is not None:
        bad &= np.isfinite(expected.astype(np.float64, copy=False))
    idx = np.argwhere(bad)[:limit]
    return tuple(f"{fmt_index(tuple(i))}={fmt_value(got[tuple(i)])}" for i in idx)


def mismatch(got: np.ndarray, expected: np.ndarray, rtol: float, atol: float) -> Mismatch | None:
    """None when every element is within `atol + rtol * |expected|`; else a summary.

    Both arrays must have the same shape. NaN matches NaN only where both have it.
    """
    g = got.astype(np.float64, copy=False)
    e = expected.astype(np.float64, copy=False)
    with np.errstate(invalid="ignore", over="ignore"):
        diff = np.abs(g - e)
        ok = diff <= atol + rtol * np.abs(e)
        ok |= (g == e)  # equal infinities
        ok |= np.isnan(g) & np.isnan(e)
    if ok.all():
        return None
    bad = ~ok
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = diff / np.abs(e)
    finite_diff = np.where(np.isfinite(diff), diff, -1.0)
    finite_rel = np.where(np.isfinite(rel), rel, -1.0)
    i_abs = np.unravel_index(int(np.argmax(finite_diff)), g.shape) if g.size else ()
    i_rel = np.unravel_index(int(np.argmax(finite_rel)), g.shape) if g.size else ()
    rows = tuple(
        Row(fmt_index(tuple(i)), fmt_value(g[tuple(i)]), fmt_value(e[tuple(i)]))
        for i in np.argwhere(bad)[:MAX_ROWS]
    )
    return Mismatch(
        shape=tuple(int(s) for s in g.shape),
        mismatched=int(bad.sum()),
        total=int(g.size),
        max_abs=float(finite_diff.max()) if g.size else 0.0,
        max_abs_index=fmt_index(tuple(i_abs)),
        max_rel=float(finite_rel.max()) if g.size else 0.0,
        max_rel_index=fmt_index(tuple(i_rel)),
        atol=atol,
        rtol=rtol,
        rows=rows,
        nonfinite=nonfinite_positions(got, expected),
    )
