# exercise: 1
import torch


def squared_loss(y_hat, y):
    y_hat = torch.as_tensor(y_hat)
    return (y_hat - torch.as_tensor(y).reshape(y_hat.shape)) ** 2 / 2
