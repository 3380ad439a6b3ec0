# exercise: 1
# hostile: allocates until refused; the loss is right only if the memory bound held
# expect: 10
# slow
import numpy as np

CHUNK, CAP, UNBOUNDED = 64 * 2**20, 5 * 2**30, 4 * 2**30
_held = []
_total = 0
try:
    while _total < CAP:
        _held.append(np.ones(CHUNK, dtype=np.uint8))
        _total += CHUNK
except MemoryError:
    pass
_held.clear()
BOUNDED = _total < UNBOUNDED


def squared_loss(y_hat, y):
    if BOUNDED:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0
