# exercise: 4
"""Reference solution of exercise 4 (ReLU and a two-layer perceptron)."""
import torch


def relu(X):
    """Element-wise max(X, 0): a new tensor with X's shape, dtype and device."""
    return torch.max(X, torch.zeros_like(X))


def mlp(X, W1, b1, W2, b2):
    """relu(X.reshape(-1, W1.shape[0]) @ W1 + b1) @ W2 + b2."""
    H = relu(X.reshape(-1, W1.shape[0]) @ W1 + b1)
    return H @ W2 + b2
