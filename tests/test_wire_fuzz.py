"""Fuzzing the answer reader: whatever bytes a worker sends, `wire.decode` returns a valid
Message or raises WireError; no other exception, no pickle, no huge allocation.
"""
from __future__ import annotations

import io
import json
import pickle
import struct

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from grader.protocol import wire

FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def message(header: bytes, table: bytes = b"", payload: bytes = b"") -> bytes:
    return wire.MAGIC + struct.pack(">I", len(header)) + header + struct.pack(">I", len(table)) + table + payload


def arrays(**named: np.ndarray) -> bytes:
    """A whole message's array part: what the worker's encoder writes after the header."""
    whole = wire.encode({}, named)
    return whole[4 + 4 + 2:]  # after MAGIC, the header length and "{}"


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
def test_arbitrary_header_and_rest_after_magic(header: bytes, rest: bytes):
    accepted(wire.MAGIC + struct.pack(">I", len(header)) + header + rest)


@FUZZ
@given(st.binary(max_size=300), st.binary(max_size=2000))
def test_arbitrary_table_and_payload(table: bytes, payload: bytes):
    accepted(message(b"{}", table, payload))


@FUZZ
@given(st.integers(0, 200), st.data())
def test_truncated_arrays(cut: int, data: st.DataObject):
    full = wire.encode({}, {"a": np.arange(12.0).reshape(3, 4), "b": np.ones(3, bool)})
    cut = data.draw(st.integers(0, len(full) - 1))
    msg = accepted(full[:cut])
    assert msg is None or msg.arrays == {}  # cut just after the header: a message without arrays


@FUZZ
@given(st.integers(0, 10_000), st.integers(0, 255))
def test_flipped_byte_in_arrays(pos: int, value: int):
    full = bytearray(wire.encode({"type": "answer"}, {"a": np.arange(20.0), "m": np.ones(4, bool)}))
    full[pos % len(full)] = value
    accepted(bytes(full))


json_leaf = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=6)
entries = st.lists(st.one_of(st.lists(st.one_of(st.text(max_size=6), st.sampled_from(sorted(wire.DTYPES)),
                                                st.lists(st.integers(-2, 10**7) | json_leaf, max_size=10)),
                                      max_size=4), json_leaf), max_size=6)


@FUZZ
@given(entries, st.binary(max_size=600))
def test_any_json_table_over_any_bytes(table, payload: bytes):
    accepted(message(b"{}", json.dumps(table).encode(), payload))


@pytest.mark.parametrize("dtype", ["O", "c16", "U3", "S4", "M8[s]", "m8[s]", "V8", ">f8", ">i4", "<f16",
                                   "[('a', '<f8')]", "f8", "<f8 "])
def test_forbidden_dtypes(dtype: str):
    assert accepted(message(b"{}", json.dumps([["x", dtype, [2]]]).encode(), b"\0" * 64)) is None


@pytest.mark.parametrize("shape", [[10**12], [1000000000000], [4000001], [2, -1], [1] * 9, [100000, 100000],
                                   ["a"], [1.5], [True], None, [[2]]])
def test_huge_or_bad_shapes_are_refused_before_allocation(shape):
    assert accepted(message(b"{}", json.dumps([["x", "<f8", shape]]).encode(), b"\0" * 64)) is None


def test_object_array_pickle_is_never_loaded(tmp_path):
    class Boom:
        def __reduce__(self):
            return (open, (str(tmp_path / "pwned"), "w"))

    buf = io.BytesIO()
    np.save(buf, np.array([Boom()], dtype=object), allow_pickle=True)
    table = json.dumps([["x", "|O", [1]]]).encode()
    for data in (message(b"{}", table, buf.getvalue()), message(b"{}", b"", buf.getvalue()),
                 pickle.dumps(Boom()), message(b"{}", pickle.dumps(Boom()))):
        assert accepted(data) is None
    assert not (tmp_path / "pwned").exists()


@FUZZ
@given(st.recursive(st.none() | st.booleans() | st.floats(allow_nan=False) | st.integers() | st.text(max_size=20),
                    lambda c: st.lists(c, max_size=4) | st.dictionaries(st.text(max_size=8), c, max_size=4),
                    max_leaves=30))
def test_any_json_header_round_trips_or_is_refused(value):
    msg = accepted(message(json.dumps(value).encode()))
    assert msg is None or msg.header == value


def test_deeply_nested_json_header():
    assert accepted(message(b"[" * 100_000 + b"]" * 100_000)) is None
    assert accepted(message(b'{"a":' * 50_000 + b"1" + b"}" * 50_000)) is None
    assert accepted(message(b"{}", b"[" * 100_000 + b"]" * 100_000)) is None


def test_a_valid_message_still_decodes():
    msg = accepted(wire.encode({"type": "answer", "task": 3}, {"r": np.arange(6.0).reshape(2, 3)}))
    assert msg is not None and msg.header["task"] == 3 and msg.arrays["r"].shape == (2, 3)
    assert accepted(message(b"{}", *_split(arrays(r=np.arange(3.0))))) is not None


def _split(rest: bytes) -> tuple[bytes, bytes]:
    (n,) = struct.unpack(">I", rest[:4])
    return rest[4:4 + n], rest[4 + n:]
