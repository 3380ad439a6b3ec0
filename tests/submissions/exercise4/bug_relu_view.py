# exercise: 4
# Bug: relu flattens with X.view(-1), which raises on a non-contiguous X.
import torch


def relu(X):
    flat = X.view(-1)
    return torch.where(flat > 0, flat, torch.zeros_like(flat)).view(X.shape)


def mlp(X, W1, b1, W2, b2):
    H = relu(X.reshape(-1, W1.shape[0]) @ W1 + b1)
    return H @ W2 + b2
