"""MNIST's IDX files (gzipped or plain), parsed by hand, and MnistError, the one error of
`grader.data`."""
from __future__ import annotations

import gzip
import os
import struct
import zlib
from pathlib import Path

import numpy as np


class MnistError(ValueError):
    """Malformed, missing or unverifiable MNIST data (message is one line)."""


_GZIP_MAGIC = b"\x1f\x8b"

#: IDX type code -> big-endian numpy dtype (http://yann.lecun.com/exdb/mnist/).
_IDX_DTYPES: dict[int, np.dtype] = {
    0x08: np.dtype(">u1"),
    0x09: np.dtype(">i1"),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def read_idx(path: str | os.PathLike[str]) -> np.ndarray:
    """Read an IDX file (gzipped or plain) into a native-byte-order numpy array.

    Raises MnistError if the file is missing, not valid gzip, has a bad magic
    number or type code, or its payload does not match the declared dimensions.
    """
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MnistError(f"cannot read IDX file {path}: {exc.strerror or exc}") from exc
    if raw[:2] == _GZIP_MAGIC:
        try:
            raw = gzip.decompress(raw)
        except (OSError, EOFError, zlib.error) as exc:
            raise MnistError(f"{path}: corrupt or truncated gzip data ({exc})") from exc
    return _parse_idx(raw, str(path))


def _parse_idx(raw: bytes, name: str) -> np.ndarray:
    if len(raw) < 4:
        raise MnistError(f"{name}: too short for an IDX header ({len(raw)} bytes)")
    zeros, code, ndim = struct.unpack(">HBB", raw[:4])
    if zeros != 0:
        raise MnistError(f"{name}: bad IDX magic number 0x{raw[:4].hex()} (must start with 0x0000)")
    if code not in _IDX_DTYPES:
        raise MnistError(f"{name}: unknown IDX type code 0x{code:02x}")
    if ndim == 0:
        raise MnistError(f"{name}: IDX header declares no dimensions")
    header_len = 4 + 4 * ndim
    if len(raw) < header_len:
        raise MnistError(f"{name}: truncated IDX header (need {header_len} bytes for {ndim} dimensions, have {len(raw)})")
    dims = struct.unpack(f">{ndim}I", raw[4:header_len])
    dtype = _IDX_DTYPES[code]
    expected = int(np.prod(dims, dtype=object)) * dtype.itemsize
    actual = len(raw) - header_len
    if actual != expected:
        kind = "truncated" if actual < expected else "trailing bytes after"
        raise MnistError(
            f"{name}: {kind} IDX payload: dimensions {dims} of {dtype.name} need {expected} bytes, found {actual}"
        )
    array = np.frombuffer(raw, dtype=dtype, offset=header_len).reshape(dims)
    return array.astype(dtype.newbyteorder("="))  # copy: writable, native order
