# exercise: 4
# Bug: relu zeroes the negative values of X itself.
import numpy as np
import torch


def relu(X):
    X[X < 0] = 0
    return X


def mlp(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2
