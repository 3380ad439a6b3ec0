import torch


def cross_entropy(logits, labels):
    # bug: the sum over the batch, not the mean
    log_probs = torch.log_softmax(logits, dim=-1)
    return -log_probs.gather(1, labels.reshape(-1, 1)).sum()
