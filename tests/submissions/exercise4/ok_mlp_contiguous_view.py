# exercise: 4
# Correct: view after making X contiguous (what reshape does when it must copy).
import torch


def relu(X):
    return X.clamp(min=0)


def mlp(X, W1, b1, W2, b2):
    H = relu(X.contiguous().view(-1, W1.shape[0]) @ W1 + b1)
    return H @ W2 + b2
