"""Probes for exercises 3–5: calls with facts, backward passes with finite differences of the
student's own forward, the gradient of the linear-regression loss, and a watched training run.

Part of the built-in course (listed in `course.py`'s probes, preloaded by the warm parent); runs
in forked workers only, so it may use torch. Like every
probe, it reports raw facts; the verdicts in `reference/checks/` draw the conclusions.
"""
from __future__ import annotations

import inspect
from contextlib import ExitStack, contextmanager
from typing import Any, Callable, Iterator

import numpy as np
import torch

from grader.exercises import gradcheck
from grader.worker.probes import (Answer, Arrays, ProbeEnv, UsageMode, backpropagate, build_arg, check_signature, dtype_name, lookup,
                     manual_seed, register)


# -- trusted stand-ins ---------------------------------------------------------------
# While a graded function is checked, the graded functions it builds on are replaced by
# these, so a bug costs points only in the function that has it (mlp is not failed for a
# broken relu, nor train_linreg for a broken linreg).


def trusted_relu(X: torch.Tensor) -> torch.Tensor:
    return torch.clamp(X, min=0)


def trusted_linreg(X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    return torch.matmul(X, w) + b


TRUSTED: dict[str, Callable[..., Any]] = {"relu": trusted_relu, "linreg": trusted_linreg}


@contextmanager
def substituted(ns: dict[str, Any], replacements: dict[str, Callable[..., Any]]) -> Iterator[None]:
    """Temporarily bind `replacements` in the submission's namespace."""
    saved = {name: ns[name] for name in replacements if name in ns}
    ns.update(replacements)
    try:
        yield
    finally:
        for name in replacements:
            ns.pop(name, None)
        ns.update(saved)


def _trusted(params: dict[str, Any]) -> dict[str, Callable[..., Any]]:
    return {name: TRUSTED[name] for name in params.get("trusted", ())}


# -- calling with facts ---------------------------------------------------------------


def _call(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any],
          env: ProbeEnv) -> tuple[Any, dict[str, Any]]:
    fn = lookup(ns, fn_name)
    specs = list(params.get("args", []))
    args = [build_arg(s, arrays, env) for s in specs]
    check_signature(fn, fn_name, args, {})
    named = {s["name"]: a for s, a in zip(specs, args)}
    with substituted(ns, _trusted(params)):
        if params.get("no_grad"):
            with torch.no_grad():
                out = fn(*args)
        else:
            out = fn(*args)
    return out, named


def _outputs(out: Any) -> list[Any]:
    return list(out[:16]) if type(out) in (tuple, list) else [out]


def _input_facts(answer: Answer, out: Any, named: dict[str, Any]) -> None:
    """Each input's state after the call, and whether the result *is* one of the inputs."""
    facts = {}
    for name, value in named.items():
        if isinstance(value, torch.Tensor):
            facts[name] = {"device": str(value.device), "dtype": dtype_name(value.dtype),
                           "requires_grad": bool(value.requires_grad), "grad_is_none": value.grad is None}
            answer.arrays[f"after.{name}"] = np.array(torch.Tensor.detach(value).cpu().numpy(), copy=True)
        elif isinstance(value, np.ndarray):
            answer.arrays[f"after.{name}"] = np.array(value, copy=True)
    answer.info["inputs"] = facts
    answer.info["same_object"] = [name for name, value in named.items()
                                  for item in _outputs(out) if item is value]


@register("call_facts")
def probe_call_facts(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any],
                     env: ProbeEnv) -> Answer:
    """Call the function; report the result, each input afterwards and identity facts.

    params: ``args``, ``no_grad``, ``trusted`` (graded helpers to stand in for), and
    ``autograd`` = "manual_j": also report the autograd gradient of mean(2 (x + 1) ** 2).
    """
    out, named = _call(ns, fn_name, arrays, params, env)
    answer = Answer()
    answer.describe("out", out)
    _input_facts(answer, out, named)
    if params.get("autograd") == "manual_j":
        x = torch.tensor(arrays["x"]).requires_grad_(True)
        with torch.enable_grad():
            (grad,) = torch.autograd.grad((2 * (x + 1) ** 2).mean(), x)
        answer.describe("autograd", grad)
    return answer


# -- backward passes and finite differences -------------------------------------------


def _as_float64(value: Any) -> np.ndarray:
    if isinstance(value, torch.Tensor):
        return torch.Tensor.detach(value).to("cpu", torch.float64).numpy()
    if isinstance(value, np.ndarray):
        return value.astype(np.float64)
    raise TypeError(f"the function returned {type(value).__name__}, not a tensor")


@register("backward_fd")
def probe_backward_fd(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any],
                      env: ProbeEnv) -> Answer:
    """Backpropagate ``upstream`` through the function; report each input's ``.grad`` and,
    for the inputs in ``fd``, central differences of sum(upstream * f(...)) in float64.

    The finite differences use the student's own forward (with ``trusted`` stand-ins).
    """
    fn = lookup(ns, fn_name)
    specs = list(params["args"])
    args = [build_arg(s, arrays, env) for s in specs]
    check_signature(fn, fn_name, args, {})
    upstream = arrays[params["backward"]]
    answer = Answer()
    with substituted(ns, _trusted(params)):
        out = fn(*args)
        answer.describe("out", out)
        named = {spec["name"]: arg for spec, arg in zip(specs, args)}
        backpropagate(answer, out, named, torch.tensor(upstream, device=env.device))
        if params.get("fd"):
            _finite_differences(answer, fn, specs, arrays, params["fd"], upstream, env)
    return answer


def _finite_differences(answer: Answer, fn: Callable[..., Any], specs: list[dict[str, Any]], arrays: Arrays,
                        names: list[str], upstream: np.ndarray, env: ProbeEnv) -> None:
    base = {s["name"]: np.asarray(arrays[s["array"]], dtype=np.float64) for s in specs}

    def objective(**values: np.ndarray) -> float:
        with torch.no_grad():
            out = fn(*(torch.tensor(values[s["name"]], device=env.device) for s in specs))
        got = _as_float64(out)
        if got.shape != upstream.shape:
            raise ValueError(f"the result has shape {got.shape}")
        return float(np.sum(got * upstream))

    try:
        found = gradcheck.partials(lambda **kw: objective(**(base | kw)), {n: base[n] for n in names})
    except Exception as exc:  # the student's forward failed on float64 inputs
        answer.info["fd"] = {"ok": False, "why": f"{type(exc).__name__}: {str(exc)[:200]}"}
        return
    answer.info["fd"] = {"ok": True}
    for name, grad in found.items():
        answer.arrays[f"fd.{name}"] = grad


# -- the gradient of the linear-regression loss ----------------------------------------


@register("loss_grad")
def probe_loss_grad(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any],
                    env: ProbeEnv) -> Answer:
    """Call linreg_grad(X, y, w, b) on numpy arrays; with ``own_forward``, also report the loss
    L = mean(1/2 (linreg(X, w, b) - y) ** 2) built on the submission's `linreg` (float64
    torch), its autograd gradient and its central differences.
    """
    out, named = _call(ns, fn_name, arrays, params, env)
    answer = Answer()
    answer.describe("out", out)
    _input_facts(answer, out, named)
    if params.get("own_forward"):
        _own_forward(answer, ns, arrays, env)
    return answer


def _own_forward(answer: Answer, ns: dict[str, Any], arrays: Arrays, env: ProbeEnv) -> None:
    model = ns.get("linreg")
    X = torch.tensor(arrays["X"], dtype=torch.float64, device=env.device)
    y = torch.tensor(arrays["y"], dtype=torch.float64, device=env.device).reshape(-1, 1)
    w0, b0 = np.asarray(arrays["w"], np.float64), np.asarray(arrays["b"], np.float64)

    def loss(w: Any, b: Any) -> torch.Tensor:
        pred = model(X, w, b)
        if not isinstance(pred, torch.Tensor) or tuple(pred.shape) != tuple(y.shape):
            raise ValueError("linreg did not return an (n, 1) tensor")
        return (0.5 * (pred.to(torch.float64) - y) ** 2).mean()

    def at(w: np.ndarray, b: np.ndarray) -> float:
        with torch.no_grad():
            return float(loss(torch.tensor(w, device=env.device), torch.tensor(b, device=env.device)))

    try:
        if not callable(model):
            raise ValueError("linreg is not defined")
        value = at(w0, b0)
        found = gradcheck.partials(at, {"w": w0, "b": b0})
    except Exception as exc:  # the submission's linreg cannot serve as the forward
        answer.info["forward"] = {"ok": False, "why": f"{type(exc).__name__}: {str(exc)[:200]}"}
        return
    answer.info["forward"] = {"ok": True, "loss": value}
    answer.arrays["fd.dw"], answer.arrays["fd.db"] = found["w"], found["b"]
    try:
        w = torch.tensor(w0, device=env.device, requires_grad=True)
        b = torch.tensor(b0, device=env.device, requires_grad=True)
        dw, db = torch.autograd.grad(loss(w, b), (w, b))
        answer.arrays["autograd.dw"], answer.arrays["autograd.db"] = _as_float64(dw), _as_float64(db)
    except Exception as exc:  # noqa: BLE001 - autograd through the submission's linreg failed
        answer.info["autograd"] = {"ok": False, "why": f"{type(exc).__name__}: {str(exc)[:200]}"}


# -- a watched training run -----------------------------------------------------------

# The last training run per function, kept so that several checks can judge one run.
_TRAIN_RUNS: dict[str, Answer | BaseException] = {}


class NotTrained(Exception):
    """A check reuses a training run that did not happen in this worker."""


class _Recorder:
    """What happened during training: optimiser steps, nn.Linear calls, linreg calls."""

    def __init__(self) -> None:
        self.optimizers: list[str] = []
        self.steps = 0
        self.modules: dict[str, int] = {}
        self.linear_calls = 0
        self.linreg_calls = 0
        self.sgd_calls = 0
        self.first: dict[str, np.ndarray] = {}

    def linreg(self, X: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        if self.linreg_calls == 0:
            for name, value in (("w", w), ("b", b)):
                if isinstance(value, torch.Tensor):
                    self.first[name] = _as_float64(value).copy()
        self.linreg_calls += 1
        return trusted_linreg(X, w, b)

    def counted(self, ns: dict[str, Any], name: str) -> dict[str, Callable[..., Any]]:
        """The submission's own `name`, counting its calls (nothing when it has none)."""
        own = ns.get(name)
        if not callable(own):
            return {}

        def call(*args: Any, **kwargs: Any) -> Any:
            self.sgd_calls += 1
            return own(*args, **kwargs)

        return {name: call}

    def facts(self, usage: UsageMode) -> dict[str, Any]:
        seen = usage.facts()
        optimizers = [*self.optimizers[:10], *(o for o in seen["optimizer_names"] if o not in self.optimizers)]
        return {"optimizers": optimizers[:10], "optimizer_steps": self.steps, "modules": self.modules,
                "optimizer_writes": seen["optimizer_writes"],
                "linear_calls": max(self.linear_calls, seen["linear_calls"]), "linreg_calls": self.linreg_calls,
                "sgd_calls": self.sgd_calls, "backward_calls": seen["backward_calls"]}


@contextmanager
def watching(recorder: _Recorder) -> Iterator[None]:
    """Record optimiser construction and steps and module calls while the body runs."""
    from torch.nn.modules.module import register_module_forward_pre_hook
    from torch.optim.optimizer import register_optimizer_step_pre_hook

    original_init = torch.optim.Optimizer.__init__

    def init(self: Any, *args: Any, **kwargs: Any) -> None:
        recorder.optimizers.append(type(self).__name__[:80])
        original_init(self, *args, **kwargs)

    def on_step(optimizer: Any, args: Any, kwargs: Any) -> None:
        recorder.steps += 1

    def on_module(module: Any, inputs: Any) -> None:
        name = type(module).__name__[:80]
        recorder.modules[name] = recorder.modules.get(name, 0) + 1
        recorder.linear_calls += isinstance(module, torch.nn.Linear)

    handles = [register_optimizer_step_pre_hook(on_step), register_module_forward_pre_hook(on_module)]
    torch.optim.Optimizer.__init__ = init  # type: ignore[method-assign]
    try:
        yield
    finally:
        torch.optim.Optimizer.__init__ = original_init  # type: ignore[method-assign]
        for handle in handles:
            handle.remove()


@register("train")
def probe_train(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any], env: ProbeEnv) -> Answer:
    """Seed torch, call train_linreg(features, labels) with a recording stand-in for `linreg`,
    and report the returned (w, b), the first (w, b) given to linreg, and what was used.

    With ``defaults`` (parameter names), also report those defaults of its signature
    (`signature_defaults`). With ``reuse``, report the previous run of this function in this
    worker instead (the checks of one training run share it; the judge orders them after the run).
    With ``watch`` false, what the run used is not watched (no `training` facts, and none of
    UsageMode's cost at every torch call): for a run whose checks judge only what it returns.
    The reference's run is never watched: only the student's habits are judged.
    """
    if params.get("reuse"):
        previous = _TRAIN_RUNS.get(fn_name)
        if previous is None:
            raise NotTrained(f"`{fn_name}` did not complete its training run earlier")
        if isinstance(previous, BaseException):
            raise previous
        return previous
    fn = lookup(ns, fn_name)
    args = [build_arg(s, arrays, env) for s in params["args"]]
    kwargs = {k: build_arg(s, arrays, env) for k, s in params.get("kwargs", {}).items()}
    check_signature(fn, fn_name, args, kwargs)
    recorder = _Recorder()
    usage, watch = UsageMode(), params.get("watch", True) and not env.reference
    manual_seed(int(params.get("seed", 0)))
    try:
        with substituted(ns, {"linreg": recorder.linreg, **recorder.counted(ns, "sgd")}), ExitStack() as watched:
            if watch:
                watched.enter_context(watching(recorder))
                watched.enter_context(usage)
            out = fn(*args, **kwargs)
    except BaseException as exc:
        if params.get("remember", True):
            _TRAIN_RUNS[fn_name] = exc
        raise
    answer = Answer()
    answer.describe("out", out)
    if watch:
        answer.info["training"] = recorder.facts(usage)
    if params.get("defaults"):
        answer.info["signature"] = signature_defaults(fn, list(params["defaults"]))
    for name, value in recorder.first.items():
        answer.arrays[f"first.{name}"] = value
    if params.get("remember", True):  # a run on other data (a hidden case) leaves the shared run alone
        _TRAIN_RUNS[fn_name] = answer
    return answer


# -- the signature's defaults ----------------------------------------------------------

_NUMPY_NUMBERS = (np.float64, np.float32, np.float16, np.int64, np.int32, np.int16, np.int8)
_KINDS = ((str, "a str"), (bool, "a bool"), (list, "a list"), (tuple, "a tuple"), (dict, "a dict"),
          (torch.Tensor, "a tensor"), (torch.nn.Parameter, "a tensor"), (np.ndarray, "an array"))


def _plain_default(value: Any) -> dict[str, Any]:
    """A default as a plain number, None, or the words for what it is (never the object)."""
    kind = type(value)  # the real type (compared by identity only: a metaclass may define ==)
    if value is None:
        return {"state": "value", "value": None}
    if any(kind is t for t in _NUMPY_NUMBERS):
        value = value.item()
        kind = type(value)
    if kind is int and abs(value) < 2**53 or kind is float and np.isfinite(value):
        return {"state": "value", "value": value}
    words = next((w for t, w in _KINDS if kind is t), "inf or nan" if kind is float else "an object")
    return {"state": "not a number", "kind": words}


def signature_defaults(fn: Callable[..., Any], names: list[str]) -> dict[str, Any]:
    """Read `fn`'s signature (without calling it): for each parameter in `names`, its default
    as a plain number (state "value"), or state "no default", "absent" or "not a number"; and
    whether the signature takes ``**kwargs``. Only plain data comes back, never the objects."""
    try:
        parameters = dict(inspect.signature(fn).parameters)
        found = {}
        for name in names:
            param = parameters.get(name)
            if not isinstance(param, inspect.Parameter):
                found[name] = {"state": "absent"}
            elif param.default is inspect.Parameter.empty:
                found[name] = {"state": "no default"}
            else:
                found[name] = _plain_default(param.default)
        var_keyword = any(isinstance(p, inspect.Parameter) and p.kind is inspect.Parameter.VAR_KEYWORD
                          for p in parameters.values())
    except Exception as exc:  # noqa: BLE001 - a hostile or unreadable signature
        return {"ok": False, "why": type(exc).__name__[:40]}
    return {"ok": True, "defaults": found, "var_keyword": var_keyword}
