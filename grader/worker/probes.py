"""Probes: trusted code that calls one function and reports raw facts as plain data.

The same probe runs the student's function in the worker and the reference in the judge,
so both answers take the same form. A probe never sees an expected value: it only builds
inputs from the arrays it is given, calls the function, and describes what came back
(values as arrays, facts such as dtype, device, identity or mutation as JSON: `describe`).
Course probe modules import what they need from here.
"""
from __future__ import annotations

import inspect
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from typing import Any, Callable

import numpy as np
import torch

from grader.worker.describe import Answer, Arrays, describe_into
# the rest of the probe API that course probe modules import from here
from grader.worker.describe import dtype_name  # noqa: F401
from grader.worker.usage import UsageMode  # noqa: F401


class MissingFunction(Exception):
    """The submission does not define the function a check calls."""


class SignatureMismatch(Exception):
    """The function cannot be called with the contract's arguments."""


@dataclass(frozen=True)
class ProbeEnv:
    """Where the probe runs: the device for tensors it creates, and whether it runs the trusted
    reference (whose habits no check judges: a probe may leave them unwatched)."""

    device: str = "cpu"
    reference: bool = False


def manual_seed(seed: int) -> None:
    """`torch.manual_seed(seed)`. On Linux with a build of torch for the CPU alone that is the
    CPU generator's seed, which is all it sets there; the queued seeders of CUDA and XPU that it
    would also record (each with a traceback read from the source files, about 1 ms in a fresh
    worker) could never run. Elsewhere (a CUDA, ROCm or XPU build; macOS and its MPS) all of it."""
    version = torch.version
    if sys.platform.startswith("linux") and not any(getattr(version, n, None) for n in ("cuda", "hip", "xpu")):
        torch.default_generator.manual_seed(seed)
    else:
        torch.manual_seed(seed)


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
