# exercise: 4
# Correct: a custom autograd.Function with a matching backward.
import numpy as np
import torch


class _ReLU(torch.autograd.Function):
    @staticmethod
    def forward(ctx, X):
        ctx.save_for_backward(X)
        return X.clamp(min=0)

    @staticmethod
    def backward(ctx, grad_output):
        (X,) = ctx.saved_tensors
        return grad_output * (X > 0).to(grad_output.dtype)


def relu(X):
    return _ReLU.apply(X)


def mlp(X, W1, b1, W2, b2):
    X = X.reshape((-1, W1.shape[0]))
    H = relu(X @ W1 + b1)
    return H @ W2 + b2
