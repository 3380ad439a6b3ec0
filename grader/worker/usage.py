"""What a training run used (optimiser writes, linear layers, backward passes), seen at torch's
own dispatch, below any name the submission may have captured."""
from __future__ import annotations

from typing import Any

import torch


def _optim_dir() -> str:
    import os

    import torch.optim

    return os.path.dirname(torch.optim.__file__) + os.sep


class UsageMode(torch.overrides.TorchFunctionMode):
    """Records, at torch's own dispatch (which no import-time capture of a method, a hook
    or `__wrapped__` sidesteps), the in-place writes to leaf tensors that require grad made
    from torch.optim's code, every linear-layer call (`nn.Linear`, its `forward`, F.linear)
    and every backward pass (`backward()`, `torch.autograd.grad`).
    """

    def __init__(self) -> None:
        super().__init__()
        self.optimizer_writes = 0
        self.optimizers: list[str] = []
        self.linear_calls = 0
        self.backward_calls = 0
        self._optim = _optim_dir()

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        name = getattr(func, "__name__", "")
        if func is torch.nn.functional.linear or name == "linear" and getattr(func, "__module__", "") in (
                "torch._C._nn", "torch.nn.functional"):
            self.linear_calls += 1
        elif name in ("backward", "grad") and getattr(func, "__self__", None) is None:
            self.backward_calls += 1
        elif (name.endswith("_") and not name.endswith("__")) or name.startswith("__i"):
            self._check_write(args)
        return func(*args, **(kwargs or {}))

    def _check_write(self, args: tuple[Any, ...]) -> None:
        first = args[0] if args else None
        targets = first if type(first) in (list, tuple) else [first]
        if not any(isinstance(t, torch.Tensor) and t.is_leaf and t.requires_grad for t in targets[:64]):
            return
        import sys

        frame, label = sys._getframe(2), None
        while frame is not None:
            path = frame.f_code.co_filename
            if path.startswith(self._optim):
                owner = frame.f_locals.get("self")
                if isinstance(owner, torch.optim.Optimizer):
                    label = type(owner).__name__[:80]
                    break
                label = label or path[len(self._optim):].removesuffix(".py")[:80]
            frame = frame.f_back
        if label is None:
            return
        self.optimizer_writes += 1
        if label not in self.optimizers and len(self.optimizers) < 10:
            self.optimizers.append(label)

    def facts(self) -> dict[str, Any]:
        return {"optimizer_writes": self.optimizer_writes, "optimizer_names": list(self.optimizers),
                "linear_calls": self.linear_calls, "backward_calls": self.backward_calls}
