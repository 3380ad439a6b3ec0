"""The process boundary accepts plain numeric arrays and JSON only."""
from __future__ import annotations

import io
import pickle

import numpy as np
import pytest

from grader import wire


def test_round_trip() -> None:
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([True, False])}
    msg = wire.decode(wire.encode({"type": "answer", "x": [1, 2.5, None]}, arrays))
    assert msg.header == {"type": "answer", "x": [1, 2.5, None]}
    assert set(msg.arrays) == {"a", "b"} and msg.arrays["a"].dtype == np.float32
    np.testing.assert_array_equal(msg.arrays["a"], arrays["a"])


def _raw(header: bytes, payload: bytes) -> bytes:
    return wire.MAGIC + len(header).to_bytes(4, "big") + header + payload


def test_pickled_object_arrays_are_refused() -> None:
    buf = io.BytesIO()
    np.savez(buf, evil=np.array([object()], dtype=object))
    with pytest.raises(wire.WireError):
        wire.decode(_raw(b"{}", buf.getvalue()))


def test_a_pickle_instead_of_a_message_is_refused() -> None:
    with pytest.raises(wire.WireError):
        wire.decode(pickle.dumps({"type": "answer", "score": 10}))


@pytest.mark.parametrize("dtype", ["complex64", "U3", "V8", ">f4", "datetime64[s]"])
def test_forbidden_dtypes_are_refused(dtype: str) -> None:
    buf = io.BytesIO()
    np.savez(buf, x=np.zeros(3, dtype=dtype))
    with pytest.raises(wire.WireError):
        wire.decode(_raw(b"{}", buf.getvalue()))


@pytest.mark.parametrize("data", [b"", b"GRD1", b"GRD1\xff\xff\xff\xff{}", _raw(b"[1]", b""), _raw(b"{", b""),
                                  _raw(b"{}", b"PK\x03\x04garbage")])
def test_malformed_messages_are_refused(data: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.decode(data)
