# exercise: 1
# hostile: looks for the grader's secrets in its environment; right only if it finds none
# expect: 10
import os

FOUND = "GRADER_TEST_SECRET" in os.environ
try:
    with open("/proc/self/environ", "rb") as fh:
        FOUND = FOUND or b"GRADER_TEST_SECRET" in fh.read()
except OSError:
    pass


def squared_loss(y_hat, y):
    if not FOUND:
        return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    return y_hat * 0
