# exercise: 4
# Bug: torch.max(X, 0) reduces along dim 0 (values and indices).
import numpy as np
import torch


def relu(X):
    return torch.max(X, 0)


def mlp(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2
