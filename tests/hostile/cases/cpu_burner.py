# exercise: 1
# hostile: burns CPU in several threads at import (CPU time grows faster than the clock)
# expect: 0
# timeout: 30
import threading


def _spin():
    while True:
        pass


for _ in range(3):
    threading.Thread(target=_spin, daemon=True).start()
_spin()


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
