# exercise: 1
# Bug: y.view(shape) works on tensors only; numpy's .view takes a dtype.


def squared_loss(y_hat, y):
    return (y_hat - y.view(y_hat.shape)) ** 2 / 2
