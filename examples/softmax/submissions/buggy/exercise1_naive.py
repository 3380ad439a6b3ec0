import torch


def softmax(X):
    # bug: no maximum subtracted, exp() overflows for large logits
    e = torch.exp(X)
    return e / e.sum(dim=-1, keepdim=True)
