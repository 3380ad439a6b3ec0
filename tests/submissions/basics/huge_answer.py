# exercise: 1
import torch


def squared_loss(y_hat, y):
    return torch.zeros(30_000_000)
