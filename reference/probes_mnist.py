"""Probes for exercise 6, the MNIST training loop (worker side: torch is allowed here).

Every probe builds what the contract fixes itself, so that one wrong function costs only
its own checks:

* the network is the contract's `Sequential(Linear(784, 200), ReLU(), Linear(200, 10))`,
  built here with the judge's weights (never the student's `build_net`);
* while `train_epoch` runs, the submission's global `sgd_update` is replaced by the
  contract's (`contract_sgd_update`), which also records the gradients it applies;
* batches are plain CPU tensors; a torch-function mode (`DeviceMode`) tracks the simulated
  device of every tensor of the run (on a CPU grader the net is shown on a GPU) and records
  each operation that would mix devices on a real GPU, and a hook at the net's input checks
  where the batch really is when it gets there (see `Watch`);
* `probes.UsageMode` records torch.optim's writes to the parameters at torch's dispatch;
* the build_net probe reads the devices of the fresh net's parameters before it moves the
  net (on a machine without CUDA build_net runs under `Placement`, which simulates moves to
  a GPU and remembers where the code put each tensor).

Probes report raw facts only (values, kinds, what was observed); the judge decides.
"""
from __future__ import annotations

import math
import time
from contextlib import contextmanager, nullcontext
from functools import partial
from itertools import islice
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import torch
from torch import nn
from torch.overrides import TorchFunctionMode
from torch.utils._pytree import tree_flatten, tree_map
from torch.utils.weak import WeakTensorKeyDictionary

from grader.worker import probes
from grader.worker.probes import Answer, Arrays, ProbeEnv, check_signature, lookup

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


# --------------------------------------------------------------------------- watching devices


@dataclass
class Watch:
    """The simulated device of every tensor while a probe runs (see `DeviceMode`).

    The net's tensors live on `home`; the loader's batches, and every tensor made without a
    device, on the CPU (the host). On a CPU-only grader the net is *shown* on `cuda:0`
    (`.device`, `.is_cuda` and `get_device()` say so), moves to it are simulated, and each
    tensor's side is kept in `tags`. An operation that would mix the two sides on a real GPU
    (a non-scalar host tensor meeting a home tensor, `.numpy()` of a home tensor) is recorded
    as a fault and still computed (on a real GPU the host operands are moved on the spot),
    so the rest of the run behaves the same on every device and only the device check fails.
    """

    home: torch.device
    fake: bool = False
    shown: torch.device = field(default_factory=lambda: torch.device("cuda", 0))
    tags: Any = field(default_factory=lambda: WeakTensorKeyDictionary())
    moved: dict[str, int] = field(default_factory=lambda: {"images": 0, "labels": 0})
    unmoved: list[dict[str, str]] = field(default_factory=list)
    unmoved_count: int = 0

    def is_home(self, device: torch.device) -> bool:
        """Whether a device names the net's (simulated) device."""
        if self.fake:
            return device.type == "cuda"
        return device.type == self.home.type and (device.index is None or self.home.index is None
                                                  or device.index == self.home.index)

    def on_home(self, t: torch.Tensor) -> bool:
        if self.fake:
            return bool(self.tags.get(t, (False, None))[0])
        return self.is_home(t.device)

    def role(self, t: torch.Tensor) -> str | None:
        tag = self.tags.get(t)
        return None if tag is None else tag[1]

    def mark(self, value: Any, home: bool, role: str | None) -> None:
        """Tag every tensor in `value` as being on the home side (or the host's)."""
        for t in tree_flatten(value)[0]:
            if isinstance(t, torch.Tensor):
                self.tags[t] = (home, role)

    def track(self, items: list[tuple[torch.Tensor, torch.Tensor]]) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Tag a loader's batches as host tensors with their roles."""
        for images, labels in items:
            self.mark(images, False, "images")
            self.mark(labels, False, "labels")
        return items

    def record_unmoved(self, role: str | None, op: str, where: str = "cpu") -> None:
        self.unmoved_count += 1
        if len(self.unmoved) < MAX_RECORDS:
            self.unmoved.append({"batch": role or "tensor", "op": op[:60], "device": where})

    def facts(self) -> dict[str, Any]:
        return {"home": str(self.home), "moved": dict(self.moved), "unmoved": list(self.unmoved),
                "unmoved_count": self.unmoved_count}


def _name(func: Any) -> str:
    owner = getattr(func, "__self__", None)
    name = getattr(func, "__name__", "op")
    if name in ("__get__", "__set__") and owner is not None:
        return f"{getattr(owner, '__name__', 'attribute')}"
    return str(name)


def _parse_device(value: Any) -> torch.device | None:
    try:
        return torch.device(value) if not isinstance(value, int) else torch.device("cuda", value)
    except (TypeError, RuntimeError, ValueError):
        return None


# Calls that may take tensors on both sides on a real GPU: indexing with CPU indices, copies.
_CROSS_DEVICE = ("__getitem__", "__setitem__", "copy_")


class DeviceMode(TorchFunctionMode):
    """Sees every torch call of the probe's run and keeps `Watch.tags` (see `Watch`)."""

    def __init__(self, watch: Watch) -> None:
        super().__init__()
        self.watch = watch

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        w = self.watch
        owner = getattr(func, "__self__", None)
        if w.fake and owner is not None and getattr(func, "__name__", "") == "__get__" and args:
            if owner is torch.Tensor.device:
                return w.shown if w.on_home(args[0]) else torch.device("cpu")
            if owner is torch.Tensor.is_cuda:
                return w.on_home(args[0])
            if owner is torch.Tensor.is_cpu:
                return not w.on_home(args[0])
        if w.fake and func is torch.Tensor.get_device:
            return 0 if w.on_home(args[0]) else -1
        if owner is torch.Tensor.grad and getattr(func, "__name__", "") == "__get__":
            grad = func(*args, **kwargs)
            if isinstance(grad, torch.Tensor) and w.fake:
                w.mark(grad, w.on_home(args[0]), None)
            return grad
        if func in (torch.Tensor.to, torch.Tensor.cuda, torch.Tensor.cpu) and args \
                and isinstance(args[0], torch.Tensor):
            moved = self._move(func, args, kwargs)
            if moved is not NotImplemented:
                return moved
        if func is torch.Tensor.numpy and args and w.on_home(args[0]):
            w.record_unmoved(w.role(args[0]), "numpy", w.shown.type if w.fake else str(w.home))
            if not w.fake:
                return func(torch.Tensor.to(args[0], "cpu"), *args[1:], **kwargs)
            return func(*args, **kwargs)
        if kwargs.get("device") is not None:
            device = _parse_device(kwargs["device"])
            if device is not None:
                home = w.is_home(device)
                if w.fake:
                    kwargs = dict(kwargs, device=torch.device("cpu"))
                out = func(*args, **kwargs)
                w.mark(out, home, None)
                return out
        return self._op(func, args, kwargs)

    def _move(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """`.to(...)`, `.cuda()`, `.cpu()`: the simulated move (NotImplemented: not a move)."""
        w, src = self.watch, args[0]
        dtype, non_blocking, memory_format = None, False, None
        copy = bool(kwargs.get("copy", False))
        if func is torch.Tensor.cpu:
            device = torch.device("cpu")
        elif func is torch.Tensor.cuda:
            device = torch.device("cuda")
        elif len(args) > 1 and isinstance(args[1], torch.Tensor):
            other = args[1]
            device = w.shown if w.fake and w.on_home(other) else (torch.device("cpu") if w.fake else other.device)
            dtype = other.dtype
            non_blocking = bool(args[2]) if len(args) > 2 else bool(kwargs.get("non_blocking", False))
        else:
            try:
                rest = {k: v for k, v in kwargs.items() if k != "copy"}
                device, dtype, non_blocking, memory_format = torch._C._nn._parse_to(*args[1:], **rest)
            except (TypeError, RuntimeError, ValueError):
                return NotImplemented
            if device is None:
                return NotImplemented
        home = w.is_home(torch.device(device))
        if home:
            role = w.role(src)
            if role in w.moved:
                w.moved[role] += 1
        if not w.fake:
            out = func(*args, **kwargs)
        else:
            changed = home != w.on_home(src)
            out = torch.Tensor.to(src, torch.device("cpu"), dtype if dtype is not None else src.dtype,
                                  non_blocking=bool(non_blocking), copy=copy or changed,
                                  memory_format=memory_format or torch.preserve_format)
        w.mark(out, home, w.role(src))
        return out

    def _op(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        """Any other call: record a mix of sides, compute, tag the results."""
        w = self.watch
        tensors = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        if not tensors:
            return func(*args, **kwargs)
        home = [t for t in tensors if w.on_home(t)]
        name = _name(func)
        if home and name not in _CROSS_DEVICE:
            host = [t for t in tensors if not w.on_home(t) and t.dim() > 0]
            inplace = name.endswith("_") and not name.endswith("__") or name.startswith("__i")
            if inplace and not w.on_home(tensors[0]) and all(tensors[0] is not t for t in host):
                host = [tensors[0], *host]
            for t in host[:4]:
                w.record_unmoved(w.role(t), name, "cpu")
            if host and not w.fake:
                target = home[0].device
                args, kwargs = tree_map(lambda t: t.to(target) if isinstance(t, torch.Tensor)
                                        and t.device != target else t, (args, kwargs))
        out = func(*args, **kwargs)
        role = next((w.role(t) for t in tensors if w.role(t)), None)
        on_home = w.on_home(tensors[0]) if name in _CROSS_DEVICE else bool(home)
        if out is not None and not isinstance(out, (bool, int, float, str, torch.Size, torch.device, torch.dtype)):
            w.mark(out, on_home, role)
        return out


@contextmanager
def watching(home: torch.device, net: nn.Module | None = None) -> Iterator[Watch]:
    """Watch devices while the body runs: `net`'s tensors on `home`, all else on the host."""
    home = torch.device(home)
    watch = Watch(home, fake=home.type == "cpu")
    hooks = []
    if net is not None:
        for t in [*net.parameters(), *net.buffers()]:
            watch.mark(t, True, None)
        first = next(iter(net.children()), net)
        hooks.append(first.register_forward_pre_hook(partial(_reaches_net, watch)))
    try:
        with DeviceMode(watch):
            yield watch
    finally:
        for handle in hooks:
            handle.remove()


def _reaches_net(watch: Watch, module: nn.Module, inputs: tuple[Any, ...]) -> None:
    """The trusted hook at the net's input: where the batch really is when it gets there."""
    x = inputs[0] if inputs else None
    if isinstance(x, torch.Tensor) and not watch.on_home(x):
        watch.record_unmoved(watch.role(x), f"net ({type(module).__name__})", "cpu")


def batches(images: np.ndarray, labels: np.ndarray, sizes: list[int]) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Consecutive CPU batches of the given sizes (plain tensors: `Watch.track` tags them)."""
    out, start = [], 0
    for size in sizes:
        x = torch.from_numpy(np.ascontiguousarray(images[start:start + size], dtype=np.float32))
        y = torch.from_numpy(np.ascontiguousarray(labels[start:start + size], dtype=np.int64))
        out.append((x, y))
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


def _storage(t: torch.Tensor) -> int:
    try:
        return int(torch.Tensor.untyped_storage(t).data_ptr())
    except (RuntimeError, TypeError, NotImplementedError):  # sparse and other storage-less tensors
        return 0


def _cuda_target(value: Any) -> torch.device:
    """The device of `.cuda(value)`."""
    return torch.device("cuda") if value is None else _parse_device(value) or torch.device("cuda")


class Placement(TorchFunctionMode):
    """Where the code puts its tensors, on a machine without CUDA (used around `build_net`).

    A move to a GPU (`.to(...)`, `.cuda()`, a factory's `device=`) is made on the CPU and its
    target remembered by storage, which a Parameter and `p.data = t` share with their tensor;
    a result computed from such a tensor inherits its target. `.device`, `.is_cuda`,
    `.is_cpu` and `get_device()` answer with the target, so the code runs as on a GPU.
    """

    def __init__(self) -> None:
        super().__init__()
        self.placed: dict[int, tuple[torch.device, torch.Tensor]] = {}  # the tensor keeps its storage alive

    def device_of(self, t: torch.Tensor) -> torch.device:
        entry = self.placed.get(_storage(t))
        return entry[0] if entry is not None else t.device

    def _place(self, out: Any, device: torch.device) -> Any:
        for t in tree_flatten(out)[0]:
            if isinstance(t, torch.Tensor) and _storage(t):
                self.placed.setdefault(_storage(t), (device, t))
        return out

    def __torch_function__(self, func: Any, types: Any, args: tuple[Any, ...] = (),
                           kwargs: dict[str, Any] | None = None) -> Any:
        kwargs = kwargs or {}
        owner, name = getattr(func, "__self__", None), getattr(func, "__name__", "")
        first = args[0] if args and isinstance(args[0], torch.Tensor) else None
        if first is not None and name == "__get__" and owner is torch.Tensor.device:
            return self.device_of(first)
        if first is not None and name == "__get__" and owner in (torch.Tensor.is_cuda, torch.Tensor.is_cpu):
            return self.device_of(first).type == ("cuda" if owner is torch.Tensor.is_cuda else "cpu")
        if first is not None and func is torch.Tensor.get_device:
            where = self.device_of(first)
            return -1 if where.type == "cpu" else where.index or 0
        if first is not None and func in (torch.Tensor.to, torch.Tensor.cuda, torch.Tensor.cpu):
            return self._move(func, args, kwargs)
        if func is torch._C._nn._parse_to and args and (type(args[0]) is int or first is not None):
            head = (torch.device("cuda", args[0]),) if first is None else (self.device_of(first), first.dtype)
            return func(*head, *args[1:], **kwargs)  # Module.to(0), Module.to(tensor)
        device = _parse_device(kwargs["device"]) if kwargs.get("device") is not None else None
        if device is not None and device.type == "cuda":
            return self._place(func(*args, **dict(kwargs, device=torch.device("cpu"))), device)
        out = func(*args, **kwargs)
        inputs = [t for t in tree_flatten((args, kwargs))[0] if isinstance(t, torch.Tensor)]
        source = next((d for d in map(self.device_of, inputs) if d.type == "cuda"), None)
        return out if source is None else self._place(out, source)

    def _move(self, func: Any, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        src, dtype = args[0], None
        if func is torch.Tensor.cpu:
            target = torch.device("cpu")
        elif func is torch.Tensor.cuda:
            target = _cuda_target(args[1] if len(args) > 1 else kwargs.get("device"))
        elif len(args) > 1 and isinstance(args[1], torch.Tensor):
            target, dtype = self.device_of(args[1]), args[1].dtype
        else:
            rest = [torch.device("cuda", a) if type(a) is int else a for a in args[1:2]] + list(args[2:])
            try:
                target, dtype, _, _ = torch._C._nn._parse_to(*rest, **{k: v for k, v in kwargs.items() if k != "copy"})
            except (TypeError, RuntimeError, ValueError):
                return func(*args, **kwargs)
        here = self.device_of(src)
        if target is None or target.type not in ("cpu", "cuda") or (target.type == "cpu" and here.type == "cpu"):
            out = func(*args, **kwargs)  # a dtype change, or a real move
            return out if here.type == "cpu" else self._place(out, here)
        if target.type == "cpu":
            return torch.Tensor.to(src, "cpu", dtype or src.dtype, copy=True)
        if here == target and dtype in (None, src.dtype) and not kwargs.get("copy"):
            return src
        return self._place(torch.Tensor.to(src, "cpu", dtype or src.dtype, copy=True), target)


def built_on(net: nn.Module, placement: Placement | None) -> list[str]:
    """The devices of the net's parameters as build_net left them (at most 8 names)."""
    where = placement.device_of if placement is not None else (lambda p: p.device)
    return sorted({str(where(p))[:20] for p in islice(net.parameters(), 64)})[:8]


@probes.register("mnist_build_net")
def probe_build_net(ns: dict[str, Any], fn_name: str, arrays: Arrays, params: dict[str, Any],
                    env: ProbeEnv) -> Answer:
    """Call build_net(); report its structure, the devices of its fresh parameters (`devices`:
    where they really are, or without CUDA where the code would have put them, see
    `Placement`), its output on `x`, and its output with the judge's weights loaded in
    parameter order (`loaded`)."""
    fn = lookup(ns, fn_name)
    check_signature(fn, fn_name, [], {})
    placement = None if torch.cuda.is_available() else Placement()
    with placement if placement is not None else nullcontext():
        net = fn()
    answer = Answer()
    answer.info["structure"] = structure(net)
    if not isinstance(net, nn.Module):
        return answer
    answer.info["devices"] = built_on(net, placement)
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
    items = batches(arrays["images"], arrays["labels"], params["sizes"])
    loader = as_loader(items, params.get("loader", "list"))
    lr = float(params["lr"])
    check_signature(fn, fn_name, [net, loader, lr, criterion], {})
    log = UpdateLog(keep=len(params["sizes"]) + 1)
    usage = probes.UsageMode()
    with watching(next(net.parameters()).device, net) as watch, grad_modes(net) as modes, \
            contract_update_in(ns, log), usage:
        watch.track(items)
        out = fn(net, loader, lr, criterion)
    answer = Answer()
    describe_losses(answer, out)
    describe_params(answer, net)
    for k, grads in enumerate(log.grads):
        for name, g in zip(PARAMS, grads):
            if g is not None:
                answer.arrays[f"update.{k}.{name}"] = g
    answer.info.update(device=watch.facts(), grad_modes=modes[:MAX_RECORDS], updates=log.calls,
                       usage=usage.facts())
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
    with watching(next(net.parameters()).device, net) as watch, contract_update_in(ns, UpdateLog()):
        for order in arrays["order"]:
            epoch = watch.track(batches(images[order], labels[order], sizes))
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
    items = batches(arrays["images"], arrays["labels"], params["sizes"])
    loader = as_loader(items, params.get("loader", "list"))
    check_signature(fn, fn_name, [net, loader], {})
    with watching(next(net.parameters()).device, net) as watch, grad_modes(net) as modes:
        watch.track(items)
        out = fn(net, loader)
    answer = Answer()
    answer.describe("out", out)
    answer.info.update(device=watch.facts(), grad_modes=modes[:MAX_RECORDS], forwards=len(modes))
    return answer


