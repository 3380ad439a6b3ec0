"""Closeness of arrays with per-dtype tolerances, summarised like torch.testing."""
from __future__ import annotations

import numpy as np

from grader.results.model import Mismatch, Row

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
    # statistics over the mismatched finite elements only; NaN/Inf are counted and located apart
    finite_bad = bad & np.isfinite(g) & np.isfinite(e)
    with np.errstate(invalid="ignore", divide="ignore"):
        rel = np.where(finite_bad & (e != 0), diff / np.where(e != 0, np.abs(e), 1.0), -np.inf)
    abs_bad = np.where(finite_bad, diff, -np.inf)
    max_abs, i_abs = _largest(abs_bad, finite_bad)
    max_rel, i_rel = _largest(rel, finite_bad & (e != 0))
    nonfinite_bad = ~np.isfinite(g) & np.isfinite(e)
    rows = tuple(
        Row(fmt_index(tuple(i)), fmt_value(g[tuple(i)]), fmt_value(e[tuple(i)]))
        for i in np.argwhere(bad)[:MAX_ROWS]
    )
    return Mismatch(
        shape=tuple(int(s) for s in g.shape),
        mismatched=int(bad.sum()),
        total=int(g.size),
        max_abs=max_abs,
        max_abs_index=i_abs,
        max_rel=max_rel,
        max_rel_index=i_rel,
        atol=atol,
        rtol=rtol,
        rows=rows,
        nonfinite=nonfinite_positions(got, expected),
        nonfinite_count=int(nonfinite_bad.sum()),
    )


def _largest(values: np.ndarray, where: np.ndarray) -> tuple[float | None, str]:
    """The greatest of `values` where `where` holds, and its index; (None, '') if nowhere."""
    if not where.any():
        return None, ""
    i = np.unravel_index(int(np.argmax(values)), values.shape)
    return float(values[i]), fmt_index(tuple(i))
