# exercise: 4
# Correct: torch.clamp and torch.matmul, num_inputs named.
import numpy as np
import torch


def relu(X):
    return torch.clamp(X, min=0)


def mlp(X, W1, b1, W2, b2):
    num_inputs = W1.shape[0]
    H = relu(torch.matmul(X.reshape(-1, num_inputs), W1) + b1)
    return torch.matmul(H, W2) + b2
