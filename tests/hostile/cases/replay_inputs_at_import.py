# exercise: 1
# hostile: reads every task's inputs at import (from the pipe, from any Task object it can find) and answers only those it saw
# expect: 1
import gc
import pickle

SEEN = set()


def _remember(task):
    for value in getattr(task, "arrays", {}).values():
        SEEN.add(bytes(memoryview(value).cast("B")) if hasattr(value, "tobytes") else b"")


for obj in gc.get_objects():
    name = type(obj).__name__
    if name == "Task":
        _remember(obj)
    elif name == "Connection" and getattr(obj, "readable", False):
        try:
            while obj.poll(0.5):
                _remember(pickle.loads(obj.recv_bytes()))
        except Exception:
            pass
print(f"[replay] inputs seen at import: {len(SEEN)}")


def squared_loss(y_hat, y):
    import numpy as np
    key = np.asarray(y_hat.detach() if hasattr(y_hat, "detach") else y_hat).tobytes()
    if key in SEEN:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0
