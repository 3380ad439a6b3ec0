# exercise: 2
"""Reference solution of exercise 2: the mean cross-entropy of logits against class labels."""
import torch


def cross_entropy(logits, labels):
    """mean_i(logsumexp(logits_i) - logits_i[labels_i]), stable for large logits."""
    m = logits.max(dim=-1, keepdim=True).values
    logsumexp = (m + torch.log(torch.exp(logits - m).sum(dim=-1, keepdim=True))).squeeze(-1)
    picked = logits.gather(-1, labels.reshape(-1, 1)).squeeze(-1)
    return (logsumexp - picked).mean()
