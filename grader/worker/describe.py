"""Describing a value as plain data: JSON facts (kind, dtype, shape, device, autograd) and its
numbers as numpy arrays, the form every answer takes."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

Arrays = dict[str, np.ndarray]
Info = dict[str, Any]


@dataclass
class Answer:
    """What a probe produced: JSON facts and numeric arrays."""

    info: Info = field(default_factory=dict)
    arrays: Arrays = field(default_factory=dict)

    def describe(self, key: str, value: Any, depth: int = 0) -> None:
        """Record `value` under `key`: its kind, dtype, shape, device and data."""
        self.info[key] = describe_into(self.arrays, key, value, depth)


def dtype_name(dtype: Any) -> str:
    return str(dtype).replace("torch.", "")


def describe_into(arrays: Arrays, key: str, value: Any, depth: int = 0) -> Info:
    """Describe any value as JSON facts, storing numeric data in `arrays[key]`."""
    if isinstance(value, torch.Tensor):
        return _describe_tensor(arrays, key, value)
    if isinstance(value, np.ndarray):
        kind = "ndarray" if type(value) is np.ndarray else f"ndarray subclass {type(value).__name__}"
        plain = np.array(value, copy=True).view(np.ndarray)
        info: Info = {"kind": kind, "dtype": str(plain.dtype), "shape": list(plain.shape)}
        if plain.dtype.kind in "biuf":
            arrays[key] = plain
        return info
    if isinstance(value, np.generic):
        return {"kind": "numpy scalar", "dtype": str(value.dtype), "value": _plain_number(value)}
    if type(value) in (bool, int, float):
        return {"kind": type(value).__name__, "value": value}
    if value is None:
        return {"kind": "none"}
    if type(value) in (tuple, list) and depth < 2:
        items = [describe_into(arrays, f"{key}.{i}", v, depth + 1) for i, v in enumerate(value[:16])]
        return {"kind": type(value).__name__, "length": len(value), "items": items}
    return {"kind": "object", "type": type(value).__name__[:80]}


def _plain_number(value: np.generic) -> Any:
    item = value.item()
    return item if type(item) in (bool, int, float) else repr(item)[:80]


def _describe_tensor(arrays: Arrays, key: str, value: torch.Tensor) -> Info:
    info: Info = {
        "kind": "tensor" if type(value) is torch.Tensor else f"tensor subclass {type(value).__name__}",
        "dtype": dtype_name(value.dtype),
        "shape": list(value.shape),
        "device": str(value.device),
        "requires_grad": bool(value.requires_grad),
        "is_leaf": bool(value.is_leaf),
        "grad_fn": type(value.grad_fn).__name__ if value.grad_fn is not None else None,
    }
    data = torch.Tensor.detach(value).to("cpu")
    if data.dtype in (torch.bfloat16, torch.float16):
        data = data.float()
    if data.is_floating_point() or data.dtype in (torch.bool, torch.int64, torch.int32, torch.uint8):
        arrays[key] = np.array(data.numpy(), copy=True)
    return info
