# exercise: 1
"""Correct but numerically fragile: the square expanded (cancellation when y_hat is close to y)."""


def squared_loss(y_hat, y):
    y = y.reshape(y_hat.shape)
    return (y_hat * y_hat - 2 * y_hat * y + y * y) / 2
