"""Probes for exercise 6, the MNIST training loop (worker side: torch is allowed here).

Every probe builds what the contract fixes itself, so that one wrong function costs only
its own checks:

* the network is the contract's `Sequential(Linear(784, 200), ReLU(), Linear(200, 10))`,
  built here with the judge's weights (never the student's `build_net`);
* while `train_epoch` runs, the submission's global `sgd_update` is replaced by the
  contract's (`contract_sgd_update`), which also records the gradients it applies;
* batches are CPU tensors of the classes `ImagesTensor` / `LabelsTensor`, which record
  whether they were moved to the network's device before being used (see `Watch`).

Probes report raw facts only (values, kinds, what was observed); the judge decides.
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn
from torch.utils._pytree import tree_map

from . import probes
from .probes import Answer, Arrays, ProbeEnv, check_signature, lookup

PARAMS = ("W1", "b1", "W2", "b2")
SHAPES = ((200, 784), (200,), (10, 200), (10,))
MAX_RECORDS = 20

# --------------------------------------------------------------------------- the contract


def contract_net(arrays: Arrays, device: torch.device, prefix: str = "") -> nn.Sequential:
    """The contract's network with the judge's weights `W1, b1, W2, b2`, on `device`."""
    net = nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10))
    with torch.no_grad():
        for p, name in zip(net.parameters(), PARAMS):
            p.copy_(torch.from_numpy(np.ascontiguousarray(arrays[prefix + name], dtype=np.float32)))
    return net.to(device)


def describe_params(answer: Answer, net: nn.Module, prefix: str = "param.") -> None:
    """The contract net's parameters as arrays `param.W1` ... on the CPU."""
    for p, name in zip(net.parameters(), PARAMS):
        answer.arrays[prefix + name] = torch.Tensor.detach(p).to("cpu").numpy().copy()


def make_criterion(spec: dict[str, Any]) -> nn.Module:
    """`nn.CrossEntropyLoss` with the options the case names (e.g. label_smoothing)."""
    return nn.CrossEntropyLoss(label_smoothing=float(spec.get("label_smoothing", 0.0)))


@dataclass
class UpdateLog:
    """What the contract's sgd_update saw: the gradient of each parameter at each call."""

    calls: int = 0
    grads: list[list[np.ndarray | None]] = field(default_factory=list)
    keep: int = 0  # how many calls to keep gradients of (0: none)


def contract_sgd_update(log: UpdateLog) -> Callable[..., None]:
    """The contract's `sgd_update(parameters, lr)`, recording the gradients it applies."""

    def sgd_update(parameters: Iterable[torch.Tensor], lr: float) -> None:
        log.calls += 1
        seen = []
        with torch.no_grad():
            for p in parameters:
                g = p.grad
                if log.calls <= log.keep:
                    seen.append(None if g is None else torch.Tensor.detach(g).to("cpu").numpy().copy())
                if g is None:
                    continue
                p -= lr * g
        if log.calls <= log.keep:
            log.grads.append(seen)

    return sgd_update


@contextmanager
def contract_update_in(ns: dict[str, Any], log: UpdateLog) -> Iterator[None]:
    """Replace the submission's global `sgd_update` while train_epoch runs, then restore it."""
    missing = object()
    saved = ns.get("sgd_update", missing)
    ns["sgd_update"] = contract_sgd_update(log)
    try:
        yield
    finally:
        if saved is missing:
            ns.pop("sgd_update", None)
        else:
            ns["sgd_update"] = saved


# --------------------------------------------------------------------------- watching batches


@dataclass
class Watch:
    """Where batch tensors went: moved to the net's device, or used without being moved.

    `home` is the device of the net's parameters. A batch tensor (or one derived from it
    by view, reshape, float ...) that meets any other tensor (a weight, the net's output)
    before being moved there is recorded as used unmoved, and is moved on the spot, so
    the rest of the run behaves the same on every device and only the device check fails.
    """

    home: torch.device
    moved: dict[str, int] = field(default_factory=lambda: {"images": 0, "labels": 0})
    unmoved: list[dict[str, str]] = field(default_factory=list)
    unmoved_count: int = 0

    def is_home(self, device: torch.device) -> bool:
        return device.type == self.home.type and (device.index is None or self.home.index is None
                                                  or device.index == self.home.index)

    def record_unmoved(self, role: str, op: str, where: str) -> None:
        self.unmoved_count += 1
        if len(self.unmoved) < MAX_RECORDS:
            self.unmoved.append({"batch": role, "op": op[:60], "device": where})

    def facts(self) -> dict[str, Any]:
        return {"home": str(self.home), "moved": dict(self.moved), "unmoved": list(self.unmoved),
                "unmoved_count": self.unmoved_count}


_WATCH: list[Watch] = []  # the active watch (at most one), set by `watching`


@contextmanager
def watching(home: torch.device) -> Iterator[Watch]:
    watch = Watch(torch.device(home))
    _WATCH.append(watch)
    try:
        yield watch
    finally:
        _WATCH.remove(watch)


def _tensors(args: tuple[Any, ...], kwargs: dict[str, Any]) -> list[torch.Tensor]:
    """The tensors among a call's arguments, looking one level into lists and tuples."""
    found = []
    for a in (*args, *kwargs.values()):
        for t in (a if type(a) in (list, tuple) else (a,)):
            if isinstance(t, torch.Tensor):
                found.append(t)
    return found


def _plain(value: Any) -> Any:
    return value.as_subclass(torch.Tensor) if isinstance(value, BatchTensor) else value


def _call_plain(func: Callable[..., Any], args: Any, kwargs: dict[str, Any]) -> Any:
    with torch._C.DisableTorchFunctionSubclass():
        return func(*args, **kwargs)


def _move_target(func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> torch.device | None:
    """The device a call moves its tensor to, or None when it is not a move."""
    try:
        if func is torch.Tensor.to:
            device = torch._C._nn._parse_to(*args[1:], **kwargs)[0]
            return None if device is None else torch.device(device)
        if func is torch.Tensor.cuda:
            device = args[1] if len(args) > 1 else kwargs.get("device")
            device = torch.device("cuda" if device is None else device)
            return device if device.type == "cuda" else torch.device("cuda", device.index)
        if func is torch.Tensor.cpu:
            return torch.device("cpu")
        if kwargs.get("device") is not None:
            return torch.device(kwargs["device"])
    except (TypeError, RuntimeError, ValueError):
        return None
    return None


class BatchTensor(torch.Tensor):
    """A batch tensor that reports to the active `Watch` where it goes (see there)."""

    role = "batch"

    @classmethod
    def __torch_function__(cls, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        if not _WATCH:
            return super().__torch_function__(func, types, args, kwargs)
        watch = _WATCH[-1]
        name = getattr(func, "__name__", "op")
        target = _move_target(func, args, kwargs)
        if target is not None:
            result = _call_plain(func, args, kwargs)
            if watch.is_home(target):
                for t in _tensors(args, kwargs):
                    if isinstance(t, BatchTensor):
                        watch.moved[t.role] = watch.moved.get(t.role, 0) + 1
                return tree_map(_plain, result)
            return tree_map(lambda r: r.as_subclass(cls) if isinstance(r, torch.Tensor) else r, result)
        tensors = _tensors(args, kwargs)
        others = [t for t in tensors if not isinstance(t, BatchTensor)]
        if not others:
            return super().__torch_function__(func, types, args, kwargs)
        device = next((t.device for t in others if t.device.type != "cpu"), others[0].device)
        for t in tensors:
            if isinstance(t, BatchTensor):
                watch.record_unmoved(t.role, name, str(_plain(t).device))
        moved = tree_map(lambda t: _plain(t).to(device) if isinstance(t, BatchTensor) else t, (args, kwargs))
        return tree_map(_plain, _call_plain(func, *moved))


class ImagesTensor(BatchTensor):
    role = "images"


class LabelsTensor(BatchTensor):
    role = "labels"


def batches(images: np.ndarray, labels: np.ndarray, sizes: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Consecutive CPU batches of the given sizes, as watched tensors."""
    out, start = [], 0
    for size in sizes:
        x = torch.from_numpy(np.ascontiguousarray(images[start:start + size], dtype=np.float32))
        y = torch.from_numpy(np.ascontiguousarray(labels[start:start + size], dtype=np.int64))
        out.append((x.as_subclass(ImagesTensor), y.as_subclass(LabelsTensor)))
        start += size
    return out


def as_loader(items: list[Any], kind: str) -> Iterable[Any]:
    """The batches as a list or a one-shot generator (no len, no .dataset)."""
    return list(items) if kind == "list" else (b for b in items)


# --------------------------------------------------------------------------- observing forwards


@contextmanager
def grad_modes(net: nn.Module) -> Iterator[list[bool]]:
    """Record torch.is_grad_enabled() at every forward of the net's first layer."""
    seen: list[bool] = []
    first = next(iter(net.children()))
    handle = first.register_forward_pre_hook(lambda _m, _i: seen.append(torch.is_grad_enabled()))
    try:
        yield seen
    finally:
        handle.remove()


def _as_float(value: Any) -> float:
    """A loss value as a float for the loss curve (NaN when it is not a number)."""
    try:
        if isinstance(value, torch.Tensor):
            return float(torch.Tensor.detach(value).to("cpu").reshape(-1)[0]) if value.numel() == 1 else math.nan
        if isinstance(value, (int, float, np.number)) and not isinstance(value, bool):
            return float(value)
    except Exception:  # noqa: BLE001 - a hostile object
        pass
    return math.nan


def loss_values(answer: Answer, items: list[Any]) -> None:
    """Loss values as the array `losses` (for the loss curve) and the kinds they came as."""
    answer.arrays["losses"] = np.array([_as_float(v) for v in items[:10_000]], dtype=np.float64)
    answer.info["loss_kinds"] = sorted({type(v).__name__[:40] for v in items[:10_000]})


def describe_losses(answer: Answer, out: Any) -> None:
    """The returned losses: their form under `out`, their values as `losses`."""
    answer.describe("out", out)
    loss_values(answer, list(out) if type(out) in (list, tuple) else [])


def _device(env: ProbeEnv) -> torch.device:
    return torch.device(env.device)


# --------------------------------------------------------------------------- probes


@probes.register("mnist_build_net")
def probe_build_net(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any],
                    env: ProbeEnv) -> Answer:
    """Call build_net(); report its structure, its output on `x`, and its output with the
    judge's weights loaded in parameter order (`loaded`)."""
    fn = lookup(ns, fn_name)
    check_signature(fn, fn_name, [], {})
    net = fn()
    answer = Answer()
    answer.info["structure"] = structure(net)
    if not isinstance(net, nn.Module):
        return answer
    device = _device(env)
    net = net.to(device)
    x = torch.from_numpy(arrays["x"]).to(device)
    with torch.no_grad():
        answer.describe("fresh", net(x))
    shapes = [tuple(p.shape) for p in net.parameters()]
    answer.info["loadable"] = shapes == list(SHAPES)
    if answer.info["loadable"]:
        with torch.no_grad():
            for p, name in zip(net.parameters(), PARAMS):
                p.copy_(torch.from_numpy(arrays[name]).to(device))
            answer.describe("loaded", net(x))
    return answer


def structure(net: Any) -> dict[str, Any]:
    """The module as data: its type, its leaf layers (type, parameter shapes), its parameters."""
    if not isinstance(net, nn.Module):
        return {"module": False, "type": type(net).__name__[:80]}
    layers = []
    for module in list(net.modules())[:50]:
        if next(module.children(), None) is not None and module is not net:
            continue
        if module is net and next(net.children(), None) is not None:
            continue
        own = [[n[:40], list(p.shape)] for n, p in module.named_parameters(recurse=False)]
        layers.append({"type": type(module).__name__[:60], "params": own[:8]})
    parameters = [list(p.shape) for p in list(net.parameters())[:20]]
    return {"module": True, "type": type(net).__name__[:80], "layers": layers, "parameters": parameters,
            "dtypes": sorted({probes.dtype_name(p.dtype) for p in net.parameters()})}


@probes.register("mnist_sgd_update")
def probe_sgd_update(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any],
                     env: ProbeEnv) -> Answer:
    """Call sgd_update(parameters, lr) on leaf tensors with planted gradients.

    params: ``params`` (list of {"array", "grad" or None}), ``lr``, ``container``
    ("list" or "generator"). Reports each parameter afterwards (`param.i`) and facts:
    same storage, still a leaf requiring grad.
    """
    fn = lookup(ns, fn_name)
    device = _device(env)
    tensors = []
    for spec in params["params"]:
        p = torch.tensor(arrays[spec["array"]], device=device, requires_grad=True)
        if spec.get("grad") is not None:
            p.grad = torch.tensor(arrays[spec["grad"]], device=device)
        tensors.append(p)
    pointers = [p.data_ptr() for p in tensors]
    container = as_loader(tensors, params.get("container", "list"))
    check_signature(fn, fn_name, [container, params["lr"]], {})
    out = fn(container, params["lr"])
    answer = Answer()
    answer.describe("out", out)
    facts = []
    for i, (p, ptr) in enumerate(zip(tensors, pointers)):
        answer.describe(f"param.{i}", p)
        facts.append({"same_storage": p.data_ptr() == ptr})
    answer.info["params"] = facts
    return answer


def _plant(net: nn.Module, arrays: Arrays, device: torch.device) -> None:
    for p, name in zip(net.parameters(), PARAMS):
        if "g" + name in arrays:
            p.grad = torch.from_numpy(arrays["g" + name]).to(device)


@probes.register("mnist_steps")
def probe_steps(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any],
                env: ProbeEnv) -> Answer:
    """A few training steps: train_epoch(net, loader, lr, criterion) on the contract net.

    arrays: the judge's weights, optional leftover gradients `gW1` ..., `images` (N, 784)
    float32 and `labels` (N,) int64. params: ``sizes`` (batch sizes), ``lr``,
    ``criterion`` (options), ``loader`` ("list" or "generator").
    Reports the parameters afterwards, the returned losses, the gradients each update
    applied (`update.k.W1` ...), where the batches went and whether grad mode was on.
    """
    fn = lookup(ns, fn_name)
    device = _device(env)
    net = contract_net(arrays, device)
    _plant(net, arrays, device)
    criterion = make_criterion(params.get("criterion", {}))
    loader = as_loader(batches(arrays["images"], arrays["labels"], params["sizes"]), params.get("loader", "list"))
    lr = float(params["lr"])
    check_signature(fn, fn_name, [net, loader, lr, criterion], {})
    log = UpdateLog(keep=len(params["sizes"]) + 1)
    with watching(next(net.parameters()).device) as watch, grad_modes(net) as modes, \
            contract_update_in(ns, log):
        out = fn(net, loader, lr, criterion)
    answer = Answer()
    describe_losses(answer, out)
    describe_params(answer, net)
    for k, grads in enumerate(log.grads):
        for name, g in zip(PARAMS, grads):
            if g is not None:
                answer.arrays[f"update.{k}.{name}"] = g
    answer.info.update(device=watch.facts(), grad_modes=modes[:MAX_RECORDS], updates=log.calls)
    return answer


@probes.register("mnist_full_run")
def probe_full_run(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any],
                   env: ProbeEnv) -> Answer:
    """The full run: `epochs` calls of train_epoch from the judge's weights and batch order.

    arrays: the weights, `images` (N, 784) uint8, `labels` (N,), `order` (epochs, N).
    params: ``batch_size``, ``lr``. Reports the final weights, every loss (`losses`), where
    the batches went, and (used from the trusted reference only) its own training time.
    """
    fn = lookup(ns, fn_name)
    device = _device(env)
    net = contract_net(arrays, device)
    criterion = make_criterion({})
    images = (arrays["images"].astype(np.float32) / np.float32(255) - np.float32(0.5)) / np.float32(0.5)
    labels = arrays["labels"].astype(np.int64)
    size, lr = int(params["batch_size"]), float(params["lr"])
    n = len(labels)
    sizes = [min(size, n - s) for s in range(0, n, size)]
    check_signature(fn, fn_name, [net, [], lr, criterion], {})
    losses: list[Any] = []
    start = time.process_time()  # CPU time: a busy neighbour does not count
    with watching(next(net.parameters()).device) as watch, contract_update_in(ns, UpdateLog()):
        for order in arrays["order"]:
            epoch = batches(images[order], labels[order], sizes)
            out = fn(net, as_loader(epoch, "generator"), lr, criterion)
            losses.extend(out if type(out) in (list, tuple) else [out])
    seconds = time.process_time() - start
    answer = Answer()
    loss_values(answer, losses)
    describe_params(answer, net)
    answer.info.update(device=watch.facts(), seconds=seconds, batches_per_epoch=len(sizes))
    return answer


@probes.register("mnist_evaluate")
def probe_evaluate(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any],
                   env: ProbeEnv) -> Answer:
    """evaluate(net, loader) on the contract net with the judge's weights.

    arrays: the weights, `images`, `labels`; params: ``sizes``, ``loader``. Reports the
    result, whether grad mode was on at each forward, and where the batches went.
    """
    fn = lookup(ns, fn_name)
    device = _device(env)
    net = contract_net(arrays, device)
    loader = as_loader(batches(arrays["images"], arrays["labels"], params["sizes"]), params.get("loader", "list"))
    check_signature(fn, fn_name, [net, loader], {})
    with watching(next(net.parameters()).device) as watch, grad_modes(net) as modes:
        out = fn(net, loader)
    answer = Answer()
    answer.describe("out", out)
    answer.info.update(device=watch.facts(), grad_modes=modes[:MAX_RECORDS], forwards=len(modes))
    return answer


