"""The process boundary: messages of JSON plus an uncompressed npz, never pickle.

A message is ``MAGIC | len(header) (4 bytes, big-endian) | header JSON | npz bytes``.
The judge decodes with hard caps and accepts only plain ndarrays of numeric dtypes.
"""
from __future__ import annotations

import io
import json
import math
import os
import select
import struct
import time
import zipfile
from dataclasses import dataclass, field
from typing import Any

import numpy as np

MAGIC = b"GRD1"
MAX_MESSAGE_BYTES = 64 * 1024 * 1024
MAX_HEADER_BYTES = 1024 * 1024
MAX_ARRAYS = 64
MAX_ARRAY_ELEMENTS = 4_000_000
MAX_NDIM = 8
MAX_INT_DIGITS = 20  # JSON integers beyond 64 bits are refused (no 4000-digit ints reach the judge)
ALLOWED_KINDS = frozenset("biuf")  # bool, signed, unsigned, floating


class WireError(ValueError):
    """A message that is malformed, oversized or of a forbidden type."""


@dataclass(frozen=True)
class Message:
    """A decoded message: JSON header plus validated plain arrays."""

    header: dict[str, Any]
    arrays: dict[str, np.ndarray] = field(default_factory=dict)


def encode(header: dict[str, Any], arrays: dict[str, np.ndarray] | None = None) -> bytes:
    """Serialise a header and numeric arrays (worker side)."""
    head = json.dumps(header, allow_nan=True, default=_json_default).encode()
    buf = io.BytesIO()
    if arrays:
        np.savez(buf, **{k: np.ascontiguousarray(v) for k, v in arrays.items()})
    return MAGIC + struct.pack(">I", len(head)) + head + buf.getvalue()


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
    (head_len,) = struct.unpack(">I", data[4:8])
    if head_len > MAX_HEADER_BYTES or 8 + head_len > len(data):
        raise WireError("bad header length")
    try:
        header = json.loads(data[8 : 8 + head_len].decode("utf-8"), parse_int=_bounded_int)
    except (ValueError, RecursionError) as exc:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        raise WireError(f"header is not JSON: {exc.__class__.__name__}") from None
    if not isinstance(header, dict):
        raise WireError("header is not a JSON object")
    payload = data[8 + head_len :]
    arrays = read_npz(payload) if payload else {}
    return Message(header, arrays)


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError("integer too long")
    return int(text)


def read_npz(payload: bytes) -> dict[str, np.ndarray]:
    """Read an npz without pickle, checking sizes before anything is inflated."""
    try:
        with zipfile.ZipFile(io.BytesIO(payload)) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ARRAYS:
                raise WireError("too many arrays")
            if sum(i.file_size for i in infos) > MAX_MESSAGE_BYTES:
                raise WireError("arrays too large once unpacked")
            for info in infos:
                _check_member(zf, info)
        with np.load(io.BytesIO(payload), allow_pickle=False) as npz:
            return {name: _checked(name, npz[name]) for name in npz.files}
    except WireError:
        raise
    except Exception as exc:  # zipfile, numpy format and value errors alike
        raise WireError(f"unreadable npz ({exc.__class__.__name__}: {str(exc)[:100]})") from None


def _check_member(zf: zipfile.ZipFile, info: zipfile.ZipInfo) -> None:
    """Check an npy member's declared dtype and shape before numpy allocates anything."""
    name = info.filename[:-4] if info.filename.endswith(".npy") else info.filename
    if info.compress_type != zipfile.ZIP_STORED:
        raise WireError(f"{name[:40]}: compressed arrays are not accepted")
    with zf.open(info) as fh:
        version = np.lib.format.read_magic(fh)
        if version not in ((1, 0), (2, 0), (3, 0)):
            raise WireError(f"{name[:40]}: unknown npy version")
        reader = {(1, 0): np.lib.format.read_array_header_1_0}.get(version, np.lib.format.read_array_header_2_0)
        shape, _fortran, dtype = reader(fh, max_header_size=10_000)
    if dtype.hasobject or dtype.kind not in ALLOWED_KINDS:
        raise WireError(f"{name[:40]}: forbidden dtype {dtype}")
    if len(shape) > MAX_NDIM or any(type(d) is not int or d < 0 for d in shape):
        raise WireError(f"{name[:40]}: bad shape")
    count = math.prod(shape)
    if count > MAX_ARRAY_ELEMENTS or count * dtype.itemsize > info.file_size:
        raise WireError(f"{name[:40]}: array too large {tuple(shape)}")


def _checked(name: str, arr: Any) -> np.ndarray:
    if type(arr) is not np.ndarray:
        raise WireError(f"{name}: not a plain ndarray")
    if arr.dtype.kind not in ALLOWED_KINDS or arr.dtype.byteorder not in "=|<":
        raise WireError(f"{name}: forbidden dtype {arr.dtype}")
    if arr.ndim > MAX_NDIM or arr.size > MAX_ARRAY_ELEMENTS:
        raise WireError(f"{name}: array too large {arr.shape}")
    return arr


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


def _kind(value: Any) -> str:
    if isinstance(value, (bool, int, float)):
        return "a number"
    return {dict: "an object", list: "a list", str: "a string"}.get(type(value), type(value).__name__)


def unlike(want: Any, got: Any, path: str = "info", depth: int = 0) -> str:
    """Why the worker's JSON `got` lacks the structure of the reference's `want`; "" when alike.

    Objects, lists, strings and numbers must be of the same kind where both have a value (None
    matches anything; keys only one side has are left to the check). The judge's checks then
    never meet a string where the reference gave an object, or nesting of unbounded depth.
    """
    if want is None or got is None:
        return ""
    if depth > 32:
        return f"{path} is nested too deeply"
    if _kind(want) != _kind(got):
        return f"{path} is {_kind(got)} where {_kind(want)} was expected"
    if isinstance(want, dict):
        for key in want.keys() & got.keys():
            problem = unlike(want[key], got[key], f"{path}.{str(key)[:40]}", depth + 1)
            if problem:
                return problem
    elif isinstance(want, list) and want:
        for i, item in enumerate(got):
            problem = unlike(want[min(i, len(want) - 1)], item, f"{path}[{i}]", depth + 1)
            if problem:
                return problem
    return ""
