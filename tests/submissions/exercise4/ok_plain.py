# exercise: 4
# Correct: torch.max with zeros_like.
import numpy as np
import torch


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def mlp(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2
