# exercise: 1
# Correct, written differently: branches on the input type, uses np/torch functions.
import numpy as np
import torch


def squared_loss(y_hat, y):
    if isinstance(y_hat, np.ndarray):
        diff = y_hat - np.asarray(y).reshape(y_hat.shape)
        return 0.5 * np.square(diff)
    diff = torch.sub(y_hat, y.view(y_hat.shape))
    return torch.pow(diff, 2) * 0.5
