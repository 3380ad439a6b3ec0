"""The process boundary: messages of JSON plus raw array bytes, never pickle.

A message is ``MAGIC | len(header) | header JSON | len(table) | table JSON | array bytes``
(lengths: 4 bytes, big-endian). The table lists each array as ``[name, dtype, shape]``; the
arrays' bytes follow one after another, C order, in the table's order. The judge decodes with
hard caps: a dtype from a short list of little-endian numeric types, shapes checked before
anything is allocated, and the bytes must add up exactly.
"""
from __future__ import annotations

import json
import math
import os
import select
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAGIC = b"GRD2"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 1024 * 1024
MAX_ARRAYS = 64
MAX_ARRAY_ELEMENTS = 4_000_000
MAX_NDIM = 8
MAX_NAME = 200
MAX_INT_DIGITS = 20  # JSON integers beyond 64 bits are refused (no 4000-digit ints reach the judge)
ALLOWED_KINDS = frozenset("biuf")  # bool, signed, unsigned, floating
DTYPES = frozenset({"|b1", "|i1", "<i2", "<i4", "<i8", "|u1", "<u2", "<u4", "<u8", "<f2", "<f4", "<f8"})


class WireError(ValueError):
    """A message that is malformed, oversized or of a forbidden type."""


@dataclass(frozen=True)
class Message:
    """A decoded message: JSON header plus validated plain arrays."""

    header: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def encode(header: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> bytes:
    """Serialise a header and numeric arrays (worker side). An array of another dtype is sent
    as it is named, and refused by the judge."""
    head = json.dumps(header, allow_nan=True, default=_json_default).encode()
    table, chunks = [], []
    for name, value in (arrays or {}).items():
        arr = np.ascontiguousarray(value)
        table.append([str(name), arr.dtype.str, list(arr.shape)])
        chunks.append(b"" if arr.dtype.hasobject else arr.tobytes())
    tab = json.dumps(table).encode() if table else b""
    return b"".join([MAGIC, struct.pack(">I", len(head)), head, struct.pack(">I", len(tab)), tab, *chunks])


def _json_default(value: Any) -> Any:
    if isinstance(value, (np.integer,)):
        return int(value)
    if isinstance(value, (np.floating,)):
        return float(value)
    if isinstance(value, np.bool_):
        return bool(value)
    return repr(value)[:200]


def decode(data: bytes) -> Message:
    """Parse and validate a message (judge side); raise WireError on anything odd."""
    if type(data) is not bytes:
        raise WireError("message is not bytes")
    if len(data) > MAX_MESSAGE_BYTES:
        raise WireError(f"message of {len(data)} bytes exceeds the cap")
    if len(data) < 8 or data[:4] != MAGIC:
        raise WireError("bad message magic")
    header, at = _json_block(data, 4, "header")
    if not isinstance(header, dict):
        raise WireError("header is not a JSON object")
    if at == len(data):
        return Message(header, {})
    table, at = _json_block(data, at, "array table")
    return Message(header, read_arrays(table, memoryview(data)[at:]))


def _json_block(data: bytes, at: int, what: str) -> tuple[Any, int]:
    """The JSON value of the length-prefixed block at `at`, and where the next one starts."""
    if at + 4 > len(data):
        raise WireError(f"bad {what} length")
    (size,) = struct.unpack(">I", data[at:at + 4])
    start, end = at + 4, at + 4 + size
    if size > MAX_HEADER_BYTES or end > len(data):
        raise WireError(f"bad {what} length")
    if size == 0 and what != "header":
        return [], end
    try:
        value = json.loads(data[start:end].decode("utf-8"), parse_int=_bounded_int)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise WireError(f"{what} is not JSON: {exc.__class__.__name__}") from None
    return value, end


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError("integer too long")
    return int(text)


def read_arrays(table: Any, payload: memoryview) -> dict[str, np.ndarray]:
    """The arrays `table` declares over `payload`, every entry checked before anything is
    allocated; the bytes must be exactly those the table declares."""
    if not isinstance(table, list) or len(table) > MAX_ARRAYS:
        raise WireError("bad array table" if not isinstance(table, list) else "too many arrays")
    layout, total = [], 0
    for entry in table:
        name, dtype, shape = _entry(entry)
        if name in {n for n, _, _ in layout}:
            raise WireError(f"{name[:40]}: sent twice")
        count = math.prod(shape)
        if count > MAX_ARRAY_ELEMENTS:
            raise WireError(f"{name[:40]}: array too large {tuple(shape)}")
        layout.append((name, dtype, shape))
        total += count * dtype.itemsize
    if total != len(payload):
        raise WireError(f"the arrays declare {total} bytes and {len(payload)} came")
    arrays, at = {}, 0
    for name, dtype, shape in layout:
        size = math.prod(shape) * dtype.itemsize
        raw = np.frombuffer(payload[at:at + size], dtype=np.uint8 if dtype.kind == "b" else dtype)
        arr = (raw != 0) if dtype.kind == "b" else raw.copy()  # a bool is 0 or 1, whatever byte came
        arrays[name] = arr.reshape(shape)
        at += size
    return arrays


def _entry(entry: Any) -> tuple[str, np.dtype, list[int]]:
    if not (isinstance(entry, list) and len(entry) == 3 and isinstance(entry[0], str) and isinstance(entry[2], list)):
        raise WireError("bad array table entry")
    name, dtype, shape = entry
    if not name or len(name) > MAX_NAME:
        raise WireError("bad array name")
    if not isinstance(dtype, str) or dtype not in DTYPES:  # a list or an object is no dtype (nor hashable)
        raise WireError(f"{name[:40]}: forbidden dtype {str(dtype)[:20]}")
    if len(shape) > MAX_NDIM or any(type(d) is not int or d < 0 for d in shape):
        raise WireError(f"{name[:40]}: bad shape")
    return name, np.dtype(dtype), shape


def finite_number(value: Any) -> bool:
    """True for a JSON number (not bool) that is finite."""
    return type(value) in (int, float) and math.isfinite(value)


# --- frames on a pipe: multiprocessing's framing (a signed 4-byte length, or -1 then 8 bytes) ---

class Stalled(Exception):
    """The deadline passed before a whole frame was read or written."""


class Closed(Exception):
    """The other end closed the pipe (or the process behind it died) before a whole frame."""


def read_frame(fd: int, deadline: float, cap: int, sentinel: int | None = None) -> bytes:
    """Read one whole frame from `fd` before the monotonic `deadline`, refusing more than `cap` bytes.

    The deadline covers the whole frame, not only its first byte: a writer that sends a length
    and stalls raises Stalled. A declared length above `cap` raises WireError before anything
    of the body is read. `sentinel` (a process sentinel) ends the wait when the writer died.
    """
    os.set_blocking(fd, False)
    reader = _Reader(fd, deadline, sentinel)
    (size,) = struct.unpack("!i", reader.take(4))
    if size == -1:
        (size,) = struct.unpack("!Q", reader.take(8))
    if size < 0 or size > cap:
        raise WireError(f"an answer of {size} bytes is over the limit of {cap} bytes")
    return reader.take(size)


class _Reader:
    def __init__(self, fd: int, deadline: float, sentinel: int | None) -> None:
        self.fd, self.deadline, self.sentinel, self.dead = fd, deadline, sentinel, False

    def take(self, n: int) -> bytes:
        buf = bytearray()
        while len(buf) < n:
            try:
                chunk = os.read(self.fd, min(n - len(buf), 1 << 20))
            except BlockingIOError:
                chunk = None
            except OSError as exc:
                raise Closed(f"the pipe failed ({exc.__class__.__name__})") from None
            if chunk == b"":
                raise Closed("the worker closed its pipe")
            if chunk:
                buf += chunk
                continue
            if self.dead:  # the writer is gone and nothing more is buffered
                raise Closed("the worker died")
            self._wait()
        return bytes(buf)

    def _wait(self) -> None:
        remaining = self.deadline - time.monotonic()
        if remaining <= 0:
            raise Stalled()
        watch = [self.fd] + ([self.sentinel] if self.sentinel is not None else [])
        ready = select.select(watch, [], [], remaining)[0]
        if self.sentinel is not None and self.sentinel in ready:
            self.dead = True  # read what is buffered, then stop


def write_frame(fd: int, data: bytes, deadline: float) -> None:
    """Write one frame to `fd` before the monotonic `deadline` (Stalled, Closed otherwise)."""
    os.set_blocking(fd, False)
    head = struct.pack("!i", len(data)) if len(data) <= 0x7FFFFFFF else struct.pack("!iQ", -1, len(data))
    view = memoryview(head + data)
    while view:
        try:
            view = view[os.write(fd, view):]
            continue
        except BlockingIOError:
            pass
        except OSError as exc:  # BrokenPipeError: the reader is gone
            raise Closed(f"the pipe failed ({exc.__class__.__name__})") from None
        remaining = deadline - time.monotonic()
        if remaining <= 0 or not select.select([], [fd], [], remaining)[1]:
            raise Stalled()


_KINDS = {bool: "a number", int: "a number", float: "a number", dict: "an object", list: "a list", str: "a string"}


def _kind(value: Any) -> str:
    kind = _KINDS.get(type(value))
    if kind is not None:
        return kind
    return "a number" if isinstance(value, (bool, int, float)) else type(value).__name__


def unlike(want: Any, got: Any, path: str = "info", depth: int = 0) -> str:
    """Why the worker's JSON `got` lacks the structure of the reference's `want`; "" when alike.

    Objects, lists, strings and numbers must be of the same kind where both have a value (None
    matches anything; keys only one side has are left to the check). The judge's checks then
    never meet a string where the reference gave an object, or nesting of unbounded depth.
    """
    try:  # equal JSON (the common case) is alike, told in C; the walk says where it differs
        if type(want) is type(got) and want == got:
            return ""
    except RecursionError:
        pass
    found = _unlike(want, got, depth)
    if found is None:
        return ""
    steps, problem = found
    return f"{path}{''.join(reversed(steps))} {problem}"


def _unlike(want: Any, got: Any, depth: int) -> tuple[list[str], str] | None:
    """`unlike`'s walk: None when alike, else the path's steps (innermost first) and the problem;
    the path is spelled out only for the node that differs."""
    if want is None or got is None:
        return None
    if depth > 32:
        return [], "is nested too deeply"
    kind, got_kind = _kind(want), _kind(got)
    if kind != got_kind:
        return [], f"is {got_kind} where {kind} was expected"
    if isinstance(want, dict):
        for key in want.keys() & got.keys():
            found = _unlike(want[key], got[key], depth + 1)
            if found is not None:
                found[0].append(f".{str(key)[:40]}")
                return found
    elif isinstance(want, list) and want:
        last = len(want) - 1
        for i, item in enumerate(got):
            found = _unlike(want[i if i < last else last], item, depth + 1)
            if found is not None:
                found[0].append(f"[{i}]")
                return found
    return None
