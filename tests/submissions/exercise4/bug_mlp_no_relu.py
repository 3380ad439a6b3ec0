# exercise: 4
# Bug: the hidden layer has no activation.
import numpy as np
import torch


def relu(X):
    a = torch.zeros_like(X)
    return torch.max(X, a)


def mlp(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    return (X @ W1 + b1) @ W2 + b2
