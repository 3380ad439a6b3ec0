"""Probes: trusted code that calls one function and reports raw facts as plain data.

The same probe runs the student's function in the worker and the reference in the judge,
so both answers take the same form. A probe never sees an expected value: it only builds
inputs from the arrays it is given, calls the function, and describes what came back
(values as arrays, facts such as dtype, device, identity or mutation as JSON).
"""
from __future__ import annotations

import inspect
from contextlib import nullcontext
from dataclasses import dataclass, field
from typing import Any, Callable

import numpy as np
import torch

Arrays = dict[str, np.ndarray]
Info = dict[str, Any]


class MissingFunction(Exception):
    """The submission does not define the function a check calls."""


class SignatureMismatch(Exception):
    """The function cannot be called with the contract's arguments."""


@dataclass
class Answer:
    """What a probe produced: JSON facts and numeric arrays."""

    info: Info = field(default_factory=dict)
    arrays: Arrays = field(default_factory=dict)

    def describe(self, key: str, value: Any, depth: int = 0) -> None:
        """Record `value` under `key`: its kind, dtype, shape, device and data."""
        self.info[key] = describe_into(self.arrays, key, value, depth)


@dataclass(frozen=True)
class ProbeEnv:
    """Where the probe runs: the device for tensors it creates."""

    device: str = "cpu"


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


# -- building inputs ---------------------------------------------------------------


def arg_device(spec: dict[str, Any], env: ProbeEnv) -> str:
    """Where a tensor argument is built: the CPU when its spec says ``"device": "cpu"``, else
    the grading device (so a function can be tried on a CPU input under ``--device cuda``)."""
    return "cpu" if spec.get("device") == "cpu" else env.device


def build_arg(spec: dict[str, Any], arrays: Arrays, env: ProbeEnv) -> Any:
    """Make one argument from its spec: a tensor, an ndarray, or a literal value."""
    if "value" in spec:
        return spec["value"]
    data = arrays[spec["array"]]
    # "transposed" / "non-contiguous": the same values in a non-contiguous view
    transposed = spec.get("layout") in ("transposed", "non-contiguous") and data.ndim >= 2
    if spec.get("as", "torch") == "numpy":
        return np.ascontiguousarray(data.transpose()).transpose() if transposed else np.array(data, copy=True)
    device = arg_device(spec, env)
    if transposed:  # the same values in transposed storage: X.view(...) raises where X.reshape(...) works
        flipped = torch.tensor(np.ascontiguousarray(data.transpose()), device=device)
        tensor = flipped.permute(*reversed(range(data.ndim)))
    else:
        tensor = torch.tensor(data, device=device)
    if spec.get("requires_grad"):
        tensor.requires_grad_(True)
    return tensor


def lookup(ns: dict[str, Any], name: str) -> Callable[..., Any]:
    """The submission's function `name`, or MissingFunction."""
    fn = ns.get(name)
    if fn is None:
        raise MissingFunction(f"`{name}` is not defined in your submission")
    if not callable(fn):
        raise MissingFunction(f"`{name}` is defined but is a {type(fn).__name__}, not a function")
    return fn


def check_signature(fn: Callable[..., Any], name: str, args: list[Any], kwargs: dict[str, Any]) -> None:
    """Raise SignatureMismatch when `fn` cannot accept the contract's arguments."""
    try:
        sig = inspect.signature(fn)
    except (TypeError, ValueError):
        return
    try:
        sig.bind(*args, **kwargs)
    except TypeError as exc:
        raise SignatureMismatch(f"`{name}{sig}` cannot be called as {name}({_arg_names(args, kwargs)}): {exc}") from None


def _arg_names(args: list[Any], kwargs: dict[str, Any]) -> str:
    parts = [f"<{type(a).__name__}>" for a in args] + [f"{k}=..." for k in kwargs]
    return ", ".join(parts)


def _to_cpu_copy(value: Any) -> Any:
    if isinstance(value, torch.Tensor):
        return torch.Tensor.detach(value).to("cpu").clone()
    if isinstance(value, np.ndarray):
        return np.array(value, copy=True)
    return value


# -- probes ------------------------------------------------------------------------


def probe_call(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any], env: ProbeEnv) -> Answer:
    """Call `fn(*args, **kwargs)`; report the return value and each input afterwards.

    params: ``args`` (list of arg specs, each with a ``name``), ``kwargs`` (name -> spec),
    ``no_grad`` (call under torch.no_grad()), ``backward`` (name of an array to use as
    the upstream gradient of the output; then report ``grad.<arg>`` for inputs that
    require grad).
    """
    fn = lookup(ns, fn_name)
    specs = list(params.get("args", []))
    kwspecs = dict(params.get("kwargs", {}))
    args = [build_arg(s, arrays, env) for s in specs]
    kwargs = {k: build_arg(s, arrays, env) for k, s in kwspecs.items()}
    check_signature(fn, fn_name, args, kwargs)
    named = {s["name"]: a for s, a in zip(specs, args)} | dict(kwargs)
    answer = Answer()
    with torch.no_grad() if params.get("no_grad") else nullcontext():
        out = fn(*args, **kwargs)
    answer.describe("out", out)
    for name, value in named.items():
        if isinstance(value, (torch.Tensor, np.ndarray)):
            answer.describe(f"after.{name}", _to_cpu_copy(value))
    upstream = params.get("backward")
    if upstream is not None:
        backpropagate(answer, out, named, torch.tensor(arrays[upstream], device=env.device))
    return answer


def backpropagate(answer: Answer, out: Any, named: dict[str, Any], upstream: torch.Tensor) -> None:
    """Backpropagate `upstream` through `out`; report each input's `.grad`."""
    if not isinstance(out, torch.Tensor) or not out.requires_grad:
        answer.info["backward"] = {"ok": False, "why": "the result is not connected to the autograd graph"}
        return
    if tuple(out.shape) != tuple(upstream.shape):
        answer.info["backward"] = {"ok": False, "why": f"the result has shape {tuple(out.shape)}"}
        return
    # (out * upstream).sum() has the same gradient as out.backward(upstream), without the
    # shape machinery (and its sympy import, ~0.7 s) that an explicit grad tensor pulls in.
    (out * upstream.to(out.dtype)).sum().backward()
    answer.info["backward"] = {"ok": True}
    for name, value in named.items():
        if isinstance(value, torch.Tensor) and value.requires_grad:
            answer.describe(f"grad.{name}", value.grad)


def probe_sgd_step(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any], env: ProbeEnv) -> Answer:
    """Call an in-place optimiser step on leaf tensors with planted gradients.

    params: ``params`` (list of {"array": key, "grad": key or None}), ``args`` (the
    remaining positional arguments as specs, e.g. lr and batch_size), ``container``
    ("list", the default, or "generator": a one-shot iterable like net.parameters()).
    Reports for each parameter: its values afterwards, whether it is the same object in
    the same storage, still a leaf requiring grad, and its ``.grad`` afterwards.
    """
    fn = lookup(ns, fn_name)
    tensors: list[torch.Tensor] = []
    for spec in params["params"]:
        p = torch.tensor(arrays[spec["array"]], device=env.device, requires_grad=True)
        if spec.get("grad") is not None:
            p.grad = torch.tensor(arrays[spec["grad"]], device=env.device)
        tensors.append(p)
    originals = list(tensors)
    pointers = [p.data_ptr() for p in tensors]
    container = list(tensors)
    extra = [build_arg(s, arrays, env) for s in params.get("args", [])]
    # ``container``: "generator" passes a one-shot iterable, as net.parameters() is
    given: Any = (p for p in container) if params.get("container") == "generator" else container
    check_signature(fn, fn_name, [given, *extra], {})
    out = fn(given, *extra)
    answer = Answer()
    answer.describe("out", out)
    facts = []
    for i, (p, ptr) in enumerate(zip(originals, pointers)):
        answer.describe(f"param.{i}", p)
        facts.append({
            "same_object": container[i] is p if i < len(container) else False,
            "same_storage": p.data_ptr() == ptr,
            "grad": describe_into(answer.arrays, f"grad.{i}", p.grad),
        })
    answer.info["params"] = facts
    return answer


PROBES: dict[str, Callable[..., Answer]] = {
    "call": probe_call,
    "sgd_step": probe_sgd_step,
}


def register(name: str) -> Callable[[Callable[..., Answer]], Callable[..., Answer]]:
    """Decorator: add a probe under `name` (used by exercise-specific probe modules)."""

    def wrap(fn: Callable[..., Answer]) -> Callable[..., Answer]:
        PROBES[name] = fn
        return fn

    return wrap


def load_extensions(strict: bool = True) -> None:
    """Import the active course's probe modules (they register its probes; see
    `grader.exercises.registry`: the warm parent preloads them, not `strict`, so that a
    broken course is reported by the judge rather than crashing the warm parent)."""
    import importlib

    from grader.exercises import registry

    try:
        for module in registry.active().probe_modules():
            importlib.import_module(module)
    except Exception:
        if strict:
            raise


def get(name: str) -> Callable[..., Answer]:
    """The probe called `name` (extension modules are imported on first use)."""
    if name not in PROBES:
        load_extensions()
    return PROBES[name]


# -- what a training run used, seen below any name the submission may have captured --------


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
