# exercise: 4
"""CUDA-only bug: relu builds its zeros on a global `device` (CUDA when there is one), so on a
machine with a GPU a CPU input gives a CUDA result. Correct on a machine without CUDA."""
import torch

device = torch.device("cuda" if torch.cuda.is_available() else "cpu")


def relu(X):
    return torch.max(X.to(device), torch.zeros(X.shape, dtype=X.dtype, device=device))


def mlp(X, W1, b1, W2, b2):
    H = relu(X.reshape(-1, W1.shape[0]) @ W1 + b1)
    return H @ W2 + b2
