# exercise: 4
# Bug: |X| instead of max(X, 0).
import numpy as np
import torch


def relu(X):
    return (X ** 2) ** 0.5


def mlp(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2
