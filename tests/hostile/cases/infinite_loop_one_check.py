# exercise: 1
# hostile: loops forever on numpy input only; the checks before it keep their points
# expect: 5
# slow
# timeout: 4
import numpy as np


def squared_loss(y_hat, y):
    if isinstance(y_hat, np.ndarray):
        while True:
            pass
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
