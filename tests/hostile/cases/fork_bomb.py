# exercise: 1
# hostile: a fork bomb at import; the loss is right only if the process bound held
# expect: 10
# slow
import os
import time

ATTEMPTS, UNBOUNDED = 600, 400
children = 0
for _ in range(ATTEMPTS):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    children += 1
BOUNDED = children < UNBOUNDED


def squared_loss(y_hat, y):
    if BOUNDED:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0
