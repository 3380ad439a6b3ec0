# exercise: 1
# hostile: os._exit(0) at import: the process ends with status 0 before any check
# expect: 0
import os

os._exit(0)


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
