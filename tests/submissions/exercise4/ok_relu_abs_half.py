# exercise: 4
# Correct, written differently: relu as (X + |X|) / 2; mlp with addmm.
import torch


def relu(X):
    return (X + X.abs()) / 2


def mlp(X, W1, b1, W2, b2):
    H = relu(torch.addmm(b1, X.reshape(-1, W1.shape[0]), W1))
    return torch.addmm(b2, H, W2)
