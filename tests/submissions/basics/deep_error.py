# exercise: 1
import numpy as np


def _inner(a, b):
    return a.reshape(-1, 3)


def squared_loss(y_hat, y):
    return _inner(y_hat, y) ** 2 / 2
