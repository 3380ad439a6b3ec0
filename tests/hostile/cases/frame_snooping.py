# exercise: 1
# hostile: looks for the expected values in its callers' frames and with gc
# expect: 1  (only "leaves its inputs unchanged" holds)
import gc
import sys

import numpy as np
import torch


def _steal(shape):
    frame = sys._getframe(1)
    while frame is not None:
        for name, value in list(frame.f_locals.items()):
            if "expect" in name.lower() and hasattr(value, "shape"):
                return value
        frame = frame.f_back
    for obj in gc.get_objects():
        if type(obj).__name__ in ("Message", "Case") and "expected" in repr(obj)[:200]:
            return obj
    return None


def squared_loss(y_hat, y):
    found = _steal(y_hat.shape)
    if found is not None:
        return found
    return y_hat * 0 + 1
