"""The process boundary accepts plain numeric arrays and JSON only."""
from __future__ import annotations

import pickle

import numpy as np
import pytest

from grader.protocol import wire


def test_round_trip() -> None:
    arrays = {"a": np.arange(6, dtype=np.float32).reshape(2, 3), "b": np.array([True, False])}
    msg = wire.decode(wire.encode({"type": "answer", "x": [1, 2.5, None]}, arrays))
    assert msg.header == {"type": "answer", "x": [1, 2.5, None]}
    assert set(msg.arrays) == {"a", "b"} and msg.arrays["a"].dtype == np.float32
    np.testing.assert_array_equal(msg.arrays["a"], arrays["a"])


def _raw(header: bytes, table: bytes = b"", payload: bytes = b"") -> bytes:
    return (wire.MAGIC + len(header).to_bytes(4, "big") + header + len(table).to_bytes(4, "big") + table
            + payload)


def test_object_arrays_are_never_sent_nor_read() -> None:
    data = wire.encode({}, {"evil": np.array([object()], dtype=object)})
    with pytest.raises(wire.WireError, match="forbidden dtype"):
        wire.decode(data)


def test_a_pickle_instead_of_a_message_is_refused() -> None:
    with pytest.raises(wire.WireError):
        wire.decode(pickle.dumps({"type": "answer", "score": 10}))


@pytest.mark.parametrize("dtype", ["complex64", "U3", "V8", ">f4", "datetime64[s]", "float128"])
def test_forbidden_dtypes_are_refused(dtype: str) -> None:
    with pytest.raises(wire.WireError, match="forbidden dtype"):
        wire.decode(wire.encode({}, {"x": np.zeros(3, dtype=dtype)}))


@pytest.mark.parametrize("table, payload, problem", [
    (b'[["x", "<f8", [1000000000000]]]', b"", "too large"),
    (b'[["x", "<f8", [4000001]]]', b"", "too large"),
    (b'[["x", "<f8", [2, -1]]]', b"", "bad shape"),
    (b'[["x", "<f8", [1, 1, 1, 1, 1, 1, 1, 1, 1]]]', b"", "bad shape"),
    (b'[["x", "<f8", [true]]]', b"\0" * 8, "bad shape"),
    (b'[["x", "<f8", [1.5]]]', b"", "bad shape"),
    (b'[["x", "|O", [1]]]', b"\0" * 8, "forbidden dtype"),
    (b'[["x", "<f8", [2]]]', b"\0" * 8, "declare 16 bytes and 8 came"),
    (b'[["x", "<f8", [1]]]', b"\0" * 9, "declare 8 bytes and 9 came"),
    (b'[["x", "<f8", [1]], ["x", "<f8", [1]]]', b"\0" * 16, "sent twice"),
    (b'[["", "<f8", [1]]]', b"\0" * 8, "bad array name"),
    (b'{"x": 1}', b"", "bad array table"),
    (b'[["x", "<f8"]]', b"", "bad array table entry"),
    (b"[" + b", ".join(b'["a%d", "|u1", [0]]' % i for i in range(65)) + b"]", b"", "too many arrays"),
])
def test_bad_array_tables_are_refused_before_anything_is_allocated(table: bytes, payload: bytes, problem: str) -> None:
    with pytest.raises(wire.WireError, match=problem):
        wire.decode(_raw(b"{}", table, payload))


def test_a_bool_is_false_or_true_whatever_byte_came() -> None:
    msg = wire.decode(_raw(b"{}", b'[["m", "|b1", [3]]]', b"\x00\x02\xff"))
    assert msg.arrays["m"].dtype == np.bool_ and msg.arrays["m"].tolist() == [False, True, True]


def test_arrays_read_back_writable_and_of_their_own_memory() -> None:
    msg = wire.decode(wire.encode({}, {"a": np.arange(6.0).reshape(2, 3).T}))
    arr = msg.arrays["a"]
    assert arr.flags.writeable and arr.flags.owndata or arr.base is not None and arr.base.flags.owndata
    np.testing.assert_array_equal(arr, np.arange(6.0).reshape(2, 3).T)


@pytest.mark.parametrize("data", [b"", b"GRD2", b"GRD2\xff\xff\xff\xff{}", _raw(b"[1]"), _raw(b"{"),
                                  _raw(b"{}", b"[garbage"), wire.MAGIC + b"\0\0\0\2{}\0\0"])
def test_malformed_messages_are_refused(data: bytes) -> None:
    with pytest.raises(wire.WireError):
        wire.decode(data)


# ------------------------------------------------------------------ frames on a pipe, with deadlines

import os as _os
import struct as _struct
import time as _time
from multiprocessing import Pipe as _Pipe


def test_read_frame_reads_what_send_bytes_writes() -> None:
    r, w = _Pipe(duplex=False)
    w.send_bytes(b"hello" * 1000)
    assert wire.read_frame(r.fileno(), _time.monotonic() + 5, 10_000) == b"hello" * 1000


def test_write_frame_is_what_recv_bytes_reads() -> None:
    r, w = _Pipe(duplex=False)
    wire.write_frame(w.fileno(), b"abc", _time.monotonic() + 5)
    assert r.recv_bytes() == b"abc"


def test_a_length_then_silence_stalls_within_the_deadline() -> None:
    r, w = _os.pipe()
    _os.write(w, _struct.pack("!i", 100) + b"GRD2")
    t0 = _time.monotonic()
    with pytest.raises(wire.Stalled):
        wire.read_frame(r, t0 + 0.3, 1000)
    assert _time.monotonic() - t0 < 1.0


def test_an_oversized_length_is_refused_before_the_body() -> None:
    r, w = _os.pipe()
    _os.write(w, _struct.pack("!i", 5000))
    with pytest.raises(wire.WireError, match="over the limit"):
        wire.read_frame(r, _time.monotonic() + 5, 4999)
    _os.write(w, _struct.pack("!iQ", -1, 2**40))
    with pytest.raises(wire.WireError, match="over the limit"):
        wire.read_frame(r, _time.monotonic() + 5, 10**6)


def test_a_closed_pipe_mid_frame_is_closed() -> None:
    r, w = _os.pipe()
    _os.write(w, _struct.pack("!i", 10) + b"abc")
    _os.close(w)
    with pytest.raises(wire.Closed):
        wire.read_frame(r, _time.monotonic() + 5, 1000)


def test_a_reader_that_never_reads_stalls_the_writer_within_the_deadline() -> None:
    r, w = _os.pipe()
    t0 = _time.monotonic()
    with pytest.raises(wire.Stalled):
        wire.write_frame(w, b"x" * (4 << 20), t0 + 0.3)
    assert _time.monotonic() - t0 < 1.0


def test_integers_beyond_64_bits_are_refused() -> None:
    head = b'{"n": ' + b"1" * 30 + b"}"
    with pytest.raises(wire.WireError, match="not JSON"):
        wire.decode(wire.MAGIC + _struct.pack(">I", len(head)) + head)
    head = b'{"n": ' + b"1" * 5000 + b"}"
    with pytest.raises(wire.WireError, match="not JSON"):
        wire.decode(wire.MAGIC + _struct.pack(">I", len(head)) + head)
    with pytest.raises(wire.WireError, match="not JSON"):
        wire.decode(_raw(b"{}", b'[["x", "<f8", [' + b"1" * 30 + b']]]'))


@pytest.mark.parametrize("want, got, problem", [
    ({"a": 1.0}, {"a": 2}, ""),
    ({"a": 1.0}, {"a": True}, ""),
    ({"a": 1.0}, {"a": None}, ""),
    ({"a": 1.0}, {"b": "x"}, ""),
    ({"a": 1.0}, {"a": "x"}, "info.a is a string where a number was expected"),
    ({"a": {"b": [1, 2]}}, {"a": {"b": [1, "x"]}}, "info.a.b[1] is a string where a number was expected"),
    ({"a": {"b": 1}}, {"a": 5}, "info.a is a number where an object was expected"),
    ({"a": []}, {"a": [{"x": 1}]}, ""),
])
def test_unlike_compares_the_structure_of_answers(want, got, problem) -> None:
    assert wire.unlike(want, got) == problem


def test_unlike_refuses_deep_nesting() -> None:
    want, got = [1], [2]
    for _ in range(40):
        want, got = [want], [got]
    assert "nested too deeply" in wire.unlike(want, got)


@pytest.mark.parametrize("entry", [["x", [], []], ["x", {"a": 1}, [1]], ["x", None, [1]], ["x", 4, [1]]])
def test_a_dtype_that_is_not_a_string_is_refused(entry) -> None:
    """Found by the fuzz test under a newer hypothesis: an unhashable dtype raised TypeError."""
    import json

    with pytest.raises(wire.WireError, match="forbidden dtype"):
        wire.decode(_raw(b"{}", json.dumps([entry]).encode()))
