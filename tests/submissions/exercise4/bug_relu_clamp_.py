# exercise: 4
# Bug: relu clamps X in place.
import numpy as np
import torch


def relu(X):
    return X.clamp_(min=0)


def mlp(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2
