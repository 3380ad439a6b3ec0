"""Diagnoses of the built-in course's usual slips (exercises 3 and 4), judge side: numpy only."""
from __future__ import annotations

import numpy as np


def wrong_shape(name: str, got: tuple[int, ...], expected: tuple[int, ...]) -> str:
    """`wrong shape of db: () instead of (1,)` with the usual fix."""
    fix = "r.sum(axis=0) / n keeps the shape (1,)" if name == "db" else f"reshape it to {tuple(expected)}"
    return f"wrong shape of {name}: {tuple(got)} instead of {tuple(expected)}; {fix}"


def relu_values(got: np.ndarray, X: np.ndarray) -> str:
    """Name the usual wrong ReLUs from their values."""
    x = X.astype(np.float64)
    g = got.astype(np.float64)
    candidates = (
        (x, "negative values passed through unchanged: max(X, 0) replaces them with 0"),
        (np.abs(x), "your relu computed |X|: negative values must become 0, not positive"),
        (np.minimum(x, 0), "your relu kept the negative values and zeroed the positive ones: it is max(X, 0)"),
        ((x > 0).astype(np.float64), "your relu returned the mask X > 0, not the values: multiply by X"),
    )
    for candidate, message in candidates:
        if np.allclose(g, candidate, rtol=1e-5, atol=1e-6):
            return message
    return ""


def never_changed(name: str) -> str:
    """`b never changed during training` with the usual causes."""
    return (f"{name} never changed during training: is {name} in the list given to sgd, "
            f"and was it created with requires_grad=True?")


def stopped_short(batch_size: int) -> str:
    return ("training moved w and b towards the true values but stopped short: the steps are too small. "
            f"A .mean() before backward() while sgd also divides by batch_size makes them {batch_size}× "
            "too small: use .sum()")


DIVERGED = ("training diverged: the parameters grew instead of settling. Are the gradients cleared "
            "after each step, and is the step lr * grad / batch_size?")

UNSETTLED = ("training did not settle at the true values: are the gradients cleared after each step "
             "(the given sgd does it), and does the update subtract lr * grad / batch_size?")
