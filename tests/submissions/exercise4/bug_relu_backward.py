# exercise: 4
# Bug: a custom backward that forgets the mask.
import numpy as np
import torch


class _ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X):
        return X.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        return grad_output


def relu(X):
    return _ReLU.apply(X)


def mlp(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2
