# exercise: 1
import d2l_torch_helpers_not_installed


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
