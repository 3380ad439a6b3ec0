# exercise: 1
# Nearly correct: a factor 0.4999 instead of 1/2 (2e-4 relative error, above float32 rounding).


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 * 0.4999
