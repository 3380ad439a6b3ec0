# exercise: 1
import torch


def squared_loss(y_hat, y):
    return torch.full_like(y_hat, float("nan"))
