# exercise: 4
# Bug: relu casts its result to float32.
import numpy as np
import torch


def relu(X):
    return torch.clamp(X, min=0).float()


def mlp(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2
