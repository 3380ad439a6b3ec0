# exercise: 1
# hostile: a daemon (double fork + setsid) meant to outlive the grader; named __TOKEN__
# expect: 10
import ctypes
import os
import time

if os.fork() == 0:
    os.setsid()
    if os.fork() == 0:
        ctypes.CDLL(None).prctl(15, b"__TOKEN__", 0, 0, 0)  # PR_SET_NAME: findable in /proc
        for fd in (0, 1, 2):
            try:
                os.close(fd)
            except OSError:
                pass
        time.sleep(60)
    os._exit(0)


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
