import torch


def softmax(X):
    # bug: normalises each column instead of each row
    e = torch.exp(X - X.max())
    return e / e.sum(dim=0, keepdim=True)
