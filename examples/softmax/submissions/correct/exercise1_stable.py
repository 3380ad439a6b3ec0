import torch


def softmax(X):
    e = torch.exp(X - X.amax(dim=1, keepdim=True))
    return e / e.sum(dim=1, keepdim=True)
