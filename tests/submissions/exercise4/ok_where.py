# exercise: 4
# Correct: torch.where, torch.addmm.
import numpy as np
import torch


def relu(X):
    return torch.where(X > 0, X, torch.zeros((), dtype=X.dtype, device=X.device))


def mlp(X, W1, b1, W2, b2):
    H = relu(torch.addmm(b1, X.reshape(-1, W1.shape[0]), W1))
    return torch.addmm(b2, H, W2)
