# exercise: 1
# hostile: os._exit(0) inside the function on numpy input; correct on tensors
# expect: 7  (every numpy case fails, tensor cases pass)
import os

import numpy as np


def squared_loss(y_hat, y):
    if isinstance(y_hat, np.ndarray):
        os._exit(0)
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
