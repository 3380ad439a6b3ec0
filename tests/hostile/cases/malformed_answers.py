# exercise: 1
# hostile: forges well-framed answers of the wrong types (4000-digit integers, errors as a string, frames as an int, nested junk)
# expect: 0
# timeout: 10
import gc
import json
import struct
import sys


def _task_id():
    frame = sys._getframe(1)
    while frame is not None:
        task = frame.f_locals.get("task")
        if type(task).__name__ == "Task":
            return task.id
        frame = frame.f_back
    return 0


def _send(header_json):
    body = b"GRD2" + struct.pack(">I", len(header_json)) + header_json
    for obj in gc.get_objects():
        if type(obj).__name__ == "Connection" and obj.writable:
            try:
                obj.send_bytes(body)
            except Exception:
                pass


def squared_loss(y_hat, y):
    t = _task_id()
    forged = [
        b'{"type": "error", "task": %d, "kind": "raised", "error": {"type": 7, "message": [1], "frames": 5}}' % t,
        b'{"type": "answer", "task": %d, "info": {"result": %s}}' % (t, b"7" * 4000),
        b'{"type": "error", "task": %d, "kind": "raised", "error": {"type": "E", "frames": [{"line": %s}]}}' % (t, b"9" * 4000),
        b'{"type": "answer", "task": %d, "info": "not an object"}' % t,
        json.dumps({"type": "answer", "task": t, "info": {"result": [[[[{"kind": []}]]]], "calls": "x"}}).encode(),
        b'{"type": "error", "task": %d, "kind": {"nested": [[]]}, "message": 12}' % t,
        b'{"type": "loaded", "errors": "boom", "offsets": 3}',
    ]
    _send(forged[t % len(forged)])  # each restarted worker gets the next task: every variant is sent
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
