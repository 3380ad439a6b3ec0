# exercise: 1
# hostile: answers every call with a float64 tensor just under the wire's per-message cap (32 MB each)
# expect: 0
import torch


def squared_loss(y_hat, y):
    return torch.zeros(3_999_000, dtype=torch.float64)
