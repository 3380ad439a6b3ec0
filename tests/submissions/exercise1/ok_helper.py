"""Correct, with a helper function, a docstring, prints and a __main__ block."""
# exercise: 1
import torch

print("loading my solution")


def _half(x):
    return x / 2


def squared_loss(y_hat, y):
    """My loss."""
    target = y.reshape(y_hat.shape)
    return _half((y_hat - target) ** 2)


if __name__ == "__main__":
    raise SystemExit("the grader must not run this")
