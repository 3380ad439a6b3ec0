"""Helpers for declaring cases: argument specs and readable input labels."""
from __future__ import annotations

from typing import Any

import numpy as np

from grader.exercises.spec import Case


def arg(name: str, kind: str = "torch", requires_grad: bool = False) -> dict[str, Any]:
    """An argument taken from the case's array `name`, as a torch tensor or numpy array."""
    spec: dict[str, Any] = {"name": name, "array": name, "as": kind}
    if requires_grad:
        spec["requires_grad"] = True
    return spec


def literal(name: str, value: Any) -> dict[str, Any]:
    """An argument passed as a plain Python value."""
    return {"name": name, "value": value}


def describe_array(name: str, array: np.ndarray, kind: str = "torch") -> str:
    """`y_hat: torch float32 (5, 1)`, with the range of its values."""
    lo, hi = (float(array.min()), float(array.max())) if array.size else (0.0, 0.0)
    where = "tensor" if kind == "torch" else "ndarray"
    return f"{name}: {where} {array.dtype} {tuple(array.shape)} in [{lo:.3g}, {hi:.3g}]"


def call_case(arrays: dict[str, np.ndarray], args: list[dict[str, Any]], note: str = "",
              context: dict[str, Any] | None = None, **params: Any) -> Case:
    """A case for the `call` probe: positional `args` built from `arrays`."""
    parts = [describe_array(s["name"], arrays[s["array"]], s.get("as", "torch")) if "array" in s
             else f"{s['name']} = {s['value']!r}" for s in args]
    label = "; ".join(parts) + (f" ({note})" if note else "")
    return Case(label, dict(arrays), {"args": args, **params}, context or {})


def uniform(rng: np.random.Generator, shape: tuple[int, ...], scale: float = 1.0,
            dtype: Any = np.float32) -> np.ndarray:
    """Values uniform in [-scale, scale]."""
    return rng.uniform(-scale, scale, size=shape).astype(dtype)
