# exercise: 1
import torch


def squared_loss(y_hat, y):
    if isinstance(y_hat, torch.Tensor):
        y_hat = y_hat.detach()
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
