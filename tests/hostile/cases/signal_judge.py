# exercise: 1
# hostile: sends a signal to the judge process (its pid given); the loss is right only if refused
# expect: 10
import os
import signal

DELIVERED = False
try:
    os.kill(__JUDGE_PID__, signal.SIGUSR1)
    DELIVERED = True
except OSError:
    pass


def squared_loss(y_hat, y):
    if not DELIVERED:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0
