"""Building blocks for check verdicts: validate the answer's form, then compare values.

Each builder returns a `Verdict`: ``(case, expected, got) -> Failure | None``. The
expected answer comes from the reference run through the same probe in the judge.
"""
from __future__ import annotations

from functools import partial
from typing import Any, Callable, Sequence

import numpy as np

from grader.exercises import compare
from grader.exercises import diagnose
from grader.results.model import Failure
from grader.exercises.spec import Case, Verdict
from grader.protocol.wire import Message, finite_number

KIND_WORDS = {
    "tensor": "a torch.Tensor",
    "ndarray": "a numpy array",
    "float": "a Python float",
    "int": "a Python int",
    "bool": "a Python bool",
    "none": "None",
    "tuple": "a tuple",
    "list": "a list",
}


def kind_words(info: dict[str, Any] | None) -> str:
    """`a torch.Tensor`, `a numpy array`, `None`, `a MyThing` ..."""
    if not isinstance(info, dict):
        return "nothing"
    kind = str(info.get("kind", "?"))
    if kind == "object":
        return f"a {info.get('type', 'object')}"
    return KIND_WORDS.get(kind, f"a {kind}")


def describe_form(info: dict[str, Any]) -> str:
    """`a torch.Tensor of shape (5, 1), float32` for messages."""
    words = kind_words(info)
    if info.get("kind") in ("tensor", "ndarray"):
        words += f" of shape {tuple(info.get('shape', ()))}, {info.get('dtype')}"
    return words


def _info(msg: Message, key: str) -> dict[str, Any] | None:
    if "." in key and key not in msg.header.get("info", {}):
        return _nested(msg.header.get("info", {}), key)
    value = msg.header.get("info", {}).get(key)
    return value if isinstance(value, dict) else None


def _nested(info: dict[str, Any], key: str) -> dict[str, Any] | None:
    head, *rest = key.split(".")
    node: Any = info.get(head)
    for part in rest:
        items = node.get("items") if isinstance(node, dict) else None
        if not isinstance(items, list) or not part.isdigit() or int(part) >= len(items):
            return None
        node = items[int(part)]
    return node if isinstance(node, dict) else None


def value(key: str = "out", *, what: str = "the result", kind: str | None = None, rtol: float | None = None,
          atol: float | None = None, check_dtype: bool = True, check_device: bool = False,
          factors: Callable[[Case], dict[str, float]] | None = None, expected_key: str | None = None,
          noun: str = "result") -> Verdict:
    """The answer at `key` has the expected kind, dtype and shape, is finite and close.

    Without `atol`, a case may set its own in ``context["atol"][key]`` (the rounding an
    algebraically equivalent form can show on that case's inputs, see compare.rounding_atol).

    `expected_key` takes the expected value from another key of the reference's answer
    (e.g. the autograd gradient the probe computed beside the reference's own result).
    """
    exp_key = expected_key or key

    def verdict(case: Case, expected: Message, got: Message) -> Failure | None:
        exp_info, got_info = _info(expected, exp_key), _info(got, key)
        if exp_info is None:
            raise AssertionError(f"reference gave no answer for {key}")
        if got_info is None:
            unfit = _unfit_for_backward(key, got, exp_info_out(expected))
            if unfit:
                return Failure(f"{what} was not checked: {unfit}",
                               hint="return one value per element of the expected shape; this check then runs")
            return Failure(f"{what} is missing" + _backward_reason(key, got))
        form = _form_failure(what, exp_info, got_info, kind, check_dtype, check_device, case)
        if form:
            return form
        if exp_info.get("kind") in ("float", "int", "numpy scalar"):
            return _scalar_failure(what, exp_info, got_info, rtol, atol)
        g, e = got.arrays.get(key), expected.arrays.get(exp_key)
        if e is None:
            return None
        if g is None or g.shape != e.shape:
            return Failure(f"{what} carried no readable values")
        a = atol if atol is not None else case.context.get("atol", {}).get(key)
        return close_arrays(g, e, what, rtol, a, factors(case) if factors else case.context.get("factors", {}),
                            noun=noun, notes=case.context.get("factor_notes", ()))

    return verdict


def exp_info_out(expected: Message) -> dict[str, Any]:
    found = expected.header.get("info", {}).get("out")
    return found if isinstance(found, dict) else {}


def _unfit_for_backward(key: str, got: Message, expected_out: dict[str, Any]) -> str:
    """Why backpropagating an upstream gradient of the expected shape could not be tried:
    the result has another shape (the value check reports that shape itself)."""
    out = got.header.get("info", {}).get("out")
    want = tuple(expected_out.get("shape", ()))
    if key.startswith("grad.") and isinstance(out, dict) and out.get("kind") == "tensor" \
            and tuple(out.get("shape", ())) != want:
        return f"the result has shape {tuple(out.get('shape', ()))} instead of {want}, so no upstream gradient of shape {want} applies"
    return ""


def _backward_reason(key: str, got: Message) -> str:
    """Why no gradient came back, when the probe could not backpropagate."""
    if not key.startswith("grad."):
        return ""
    back = got.header.get("info", {}).get("backward")
    if isinstance(back, dict) and back.get("ok") is False:
        return f": backward() could not run because {str(back.get('why', ''))[:200]}"
    return ": no gradient reached this input (is the result built from it with tensor operations?)"


def _form_failure(what: str, exp: dict[str, Any], got: dict[str, Any], kind: str | None, check_dtype: bool,
                  check_device: bool, case: Case) -> Failure | None:
    want_kind = kind or exp.get("kind")
    got_kind = got.get("kind")
    numbers = ("float", "int", "numpy scalar")
    if got_kind != want_kind and not (want_kind in numbers and got_kind in numbers):
        return Failure(f"{what} is {kind_words(got)}, expected {kind_words(exp)}")
    if want_kind not in ("tensor", "ndarray"):
        return None
    if check_dtype and got.get("dtype") != exp.get("dtype"):
        return Failure(f"{what} has dtype {got.get('dtype')}, expected {exp.get('dtype')}",
                       hint="keep the input's dtype: avoid mixing in float64 values or integer arithmetic")
    if check_device and got.get("device") != case.params.get("device", got.get("device")):
        return Failure(f"{what} is on {got.get('device')}, expected {case.params.get('device')}")
    got_shape, exp_shape = tuple(got.get("shape", ())), tuple(exp.get("shape", ()))
    if got_shape != exp_shape:
        return Failure(f"{what} has shape {got_shape}, expected {exp_shape}",
                       diagnosis=diagnose.shape_diagnosis(got_shape, exp_shape))
    return None


def _scalar_failure(what: str, exp: dict[str, Any], got: dict[str, Any], rtol: float | None,
                    atol: float | None) -> Failure | None:
    e, g = exp.get("value"), got.get("value")
    if not finite_number(g):
        return Failure(f"{what} is {g!r}, not a finite number")
    r, a = compare.tolerance("float64", rtol if rtol is not None else 1e-6, atol if atol is not None else 1e-8)
    if abs(g - e) > a + r * abs(e):
        return Failure(f"{what} is {g:.6g}, expected {e:.6g}")
    return None


def close_arrays(got: np.ndarray, expected: np.ndarray, what: str, rtol: float | None = None,
                 atol: float | None = None, factors: dict[str, float] | None = None, noun: str = "result",
                 notes: Sequence[tuple[float, str]] = ()) -> Failure | None:
    """Compare two arrays of one shape with the expected dtype's tolerances."""
    r, a = compare.tolerance(str(expected.dtype), rtol, atol)
    if got.dtype.kind == "f" and not np.isfinite(got).all() and np.isfinite(expected).all():
        bad = compare.nonfinite_positions(got)
        return Failure(f"{what} contains NaN or Inf at {', '.join(bad)}",
                       mismatch=compare.mismatch(got, expected, r, a),
                       hint="look for a division by zero, a log of 0, or values that overflow")
    found = compare.mismatch(got, expected, r, a)
    if found is None:
        return None
    return Failure(f"{what} differs from the expected values in {found.mismatched} of {found.total} elements",
                   mismatch=found, diagnosis=diagnose.value_diagnosis(got, expected, factors or {}, noun, notes))


def unchanged(*names: str, what: str = "") -> Verdict:
    """The named inputs hold the same values after the call (no in-place mutation)."""

    def verdict(case: Case, expected: Message, got: Message) -> Failure | None:
        specs = {s["name"]: s for s in case.params.get("args", []) if "array" in s}
        specs |= {k: s | {"name": k} for k, s in case.params.get("kwargs", {}).items() if "array" in s}
        for name in names or tuple(specs):
            before = case.arrays[specs[name]["array"]]
            after = got.arrays.get(f"after.{name}")
            if after is None or after.shape != before.shape:
                return Failure(f"could not read `{name}` back after the call")
            if not np.array_equal(after, before, equal_nan=True):
                n = int((after != before).sum())
                return Failure(f"{what or 'the function'} changed its input `{name}` in place ({n} elements)",
                               diagnosis="in place instead of a copy: compute into a new array/tensor "
                                         "and leave the caller's inputs alone")
        return None

    return verdict


def all_of(*verdicts: Verdict) -> Verdict:
    """The first failure among `verdicts`, in order."""

    def verdict(case: Case, expected: Message, got: Message) -> Failure | None:
        for v in verdicts:
            failure = v(case, expected, got)
            if failure is not None:
                return failure
        return None

    return verdict


def info(msg: Message, key: str) -> dict[str, Any] | None:
    """The facts the probe recorded under `key` (nested tuple items as `out.0`)."""
    return _info(msg, key)


def truth(msg: Message, key: str = "out") -> bool | None:
    """The truth value of a bool-like answer: a bool, a numpy bool or a one-element bool/0-1
    tensor or array; None when the answer is not bool-like."""
    found = _info(msg, key)
    if not isinstance(found, dict):
        return None
    if found.get("kind") in ("bool", "numpy scalar") and type(found.get("value")) is bool:
        return found["value"]
    data = msg.arrays.get(key)
    if found.get("kind") in ("tensor", "ndarray") and data is not None and data.size == 1:
        if data.dtype == np.bool_ or float(data.reshape(-1)[0]) in (0.0, 1.0):
            return bool(data.reshape(-1)[0])
    return None


def same_device(key: str = "out", arg: str = "X", what: str = "the result") -> Verdict:
    """The result lives on the device of input `arg` (probe `call_facts`)."""

    def verdict(case: Case, expected: Message, got: Message) -> Failure | None:
        out, inputs = _info(got, key), got.header.get("info", {}).get("inputs", {})
        want = inputs.get(arg, {}).get("device") if isinstance(inputs, dict) else None
        if out is None or want is None:
            return Failure(f"could not read the devices of {what} and `{arg}`")
        if out.get("device") != want:
            return Failure(f"{what} is on {out.get('device')}, but `{arg}` is on {want}",
                           hint="create new tensors with torch.zeros_like(X) (or device=X.device)")
        return None

    return verdict


def new_object(arg: str, what: str = "the function") -> Verdict:
    """The result is not the input `arg` itself (probe `call_facts`)."""

    def verdict(case: Case, expected: Message, got: Message) -> Failure | None:
        if arg in (got.header.get("info", {}).get("same_object") or []):
            return Failure(f"{what} returned its input `{arg}` itself, not a new tensor",
                           diagnosis=diagnose.IN_PLACE)
        return None

    return verdict


def gradient(key: str, reference_key: str, *, what: str, source: str, from_expected: bool = True,
             rtol: float | None = None, atol: float | None = None, noun: str = "gradient") -> Verdict:
    """The gradient at `key` agrees with `reference_key` (of the reference's answer, or of the
    student's own answer with from_expected=False) and the worst entry is named."""
    from grader.exercises import gradcheck

    def verdict(case: Case, expected: Message, got: Message) -> Failure | None:
        ref = (expected if from_expected else got).arrays.get(reference_key)
        g = got.arrays.get(key)
        if ref is None:
            return Failure(f"{source} could not be computed for {what}")
        if g is None:
            if (_info(got, key) or {}).get("kind") == "none":
                return Failure(f"{what} is None: backward() did not reach it",
                               diagnosis="the result is not connected to this input: look for a .detach(), "
                                         ".data, .numpy() or torch.tensor(...) on the way")
            return Failure(f"{what} is missing or not a numeric array")
        r, a = compare.tolerance(str(ref.dtype), rtol, atol)
        diag = partial(diagnose.value_diagnosis, g, ref, case.context.get("factors", {}), noun,
                       case.context.get("factor_notes", ())) if g.shape == ref.shape else ""
        return gradcheck.gradient_failure(g, ref, what, source, r, a, diag)

    return verdict
