# exercise: 4
# Correct: X * (X > 0), flatten with view after contiguous.
import numpy as np
import torch


def relu(X):
    return X * (X > 0)


def mlp(X, W1, b1, W2, b2):
    X = X.contiguous().view(-1, len(W1))
    return relu(X.mm(W1) + b1).mm(W2) + b2
