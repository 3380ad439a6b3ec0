"""Fuzzing the answer reader: whatever bytes a worker sends, `wire.decode` returns a valid
Message or raises WireError; no other exception, no pickle, no huge allocation.
"""
from __future__ import annotations

import io
import json
import pickle
import struct
import zipfile

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.protocol import wire

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def message(header: bytes, payload: bytes) -> bytes:
    return wire.MAGIC + struct.pack(">I", len(header)) + header + payload


def npz(**arrays: np.ndarray) -> bytes:
    buf = io.BytesIO()
    np.savez(buf, **arrays)
    return buf.getvalue()


def npy_member(header_dict: str, data: bytes, name: str = "x.npy") -> bytes:
    """A zip with one hand-made npy member (any header text, any data)."""
    head = header_dict.encode("latin1")
    head += b" " * (63 - (len(head) + 10) % 64) + b"\n"
    raw = b"\x93NUMPY\x01\x00" + struct.pack("<H", len(head)) + head + data
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, raw)
    return buf.getvalue()


def accepted(data: bytes) -> wire.Message | None:
    try:
        msg = wire.decode(data)
    except wire.WireError as exc:
        assert str(exc)  # a clear message
        return None
    assert isinstance(msg.header, dict)
    for arr in msg.arrays.values():
        assert type(arr) is np.ndarray and arr.dtype.kind in wire.ALLOWED_KINDS
        assert arr.size <= wire.MAX_ARRAY_ELEMENTS
    return msg


@FUZZ
@given(st.binary(max_size=2000))
def test_arbitrary_bytes(data: bytes):
    accepted(data)


@FUZZ
@given(st.binary(max_size=500), st.binary(max_size=2000))
def test_arbitrary_header_and_payload_after_magic(header: bytes, payload: bytes):
    accepted(message(header, payload))


@FUZZ
@given(st.integers(0, 200), st.data())
def test_truncated_npz(cut: int, data: st.DataObject):
    full = message(b"{}", npz(a=np.arange(12.0).reshape(3, 4), b=np.ones(3, bool)))
    cut = data.draw(st.integers(0, len(full)))
    accepted(full[:cut])


@FUZZ
@given(st.integers(0, 10_000), st.integers(0, 255))
def test_flipped_byte_in_npz(pos: int, value: int):
    full = bytearray(message(b'{"type": "answer"}', npz(a=np.arange(20.0))))
    full[pos % len(full)] = value
    accepted(bytes(full))


@pytest.mark.parametrize("dtype", ["O", "c16", "U3", "S4", "M8[s]", "m8[s]", "V8", ">f8", ">i4",
                                   "[('a', '<f8')]"])
def test_forbidden_dtypes(dtype: str):
    header = "{'descr': %s, 'fortran_order': False, 'shape': (2,), }" % (
        dtype if dtype.startswith("[") else repr(dtype))
    assert accepted(message(b"{}", npy_member(header, b"\0" * 64))) is None


@pytest.mark.parametrize("shape", ["(10**12,)", "(1000000000000,)", "(4000001,)", "(2, -1)", "(1,)*9",
                                   "(100000, 100000)", "('a',)", "(1.5,)"])
def test_huge_or_bad_shapes_are_refused_before_allocation(shape: str):
    header = "{'descr': '<f8', 'fortran_order': False, 'shape': %s, }" % shape
    assert accepted(message(b"{}", npy_member(header, b"\0" * 64))) is None


@FUZZ
@given(st.text(max_size=200), st.binary(max_size=100))
def test_arbitrary_npy_header_text(text: str, body: bytes):
    accepted(message(b"{}", npy_member(text.encode("latin1", "replace").decode("latin1"), body)))


def test_object_array_pickle_is_never_loaded(tmp_path):
    class Boom:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    buf = io.BytesIO()
    np.save(buf, np.array([Boom()], dtype=object), allow_pickle=True)
    zbuf = io.BytesIO()
    with zipfile.ZipFile(zbuf, "w") as zf:
        zf.writestr("x.npy", buf.getvalue())
    for data in (message(b"{}", zbuf.getvalue()), pickle.dumps(Boom()), message(b"{}", pickle.dumps(Boom()))):
        assert accepted(data) is None
    assert not (tmp_path / "pwned").exists()


def test_compressed_members_and_zip_bombs_are_refused():
    buf = io.BytesIO()
    np.savez_compressed(buf, a=np.zeros(3_000_000))
    assert accepted(message(b"{}", buf.getvalue())) is None


@FUZZ
@given(st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=30))
def test_any_json_header_round_trips_or_is_refused(value):
    msg = accepted(message(json.dumps(value).encode(), b""))
    assert msg is None or msg.header == value


def test_deeply_nested_json_header():
    assert accepted(message(b"[" * 100_000 + b"]" * 100_000, b"")) is None
    assert accepted(message(b'{"a":' * 50_000 + b"1" + b"}" * 50_000, b"")) is None


def test_a_valid_message_still_decodes():
    msg = accepted(wire.encode({"type": "answer", "task": 3}, {"r": np.arange(6.0).reshape(2, 3)}))
    assert msg is not None and msg.header["task"] == 3 and msg.arrays["r"].shape == (2, 3)
