# exercise: 1
# hostile: answers NaN and infinities everywhere (comparisons with NaN are all False)
# expect: 1  (only "leaves its inputs unchanged" holds)
import numpy as np
import torch


def squared_loss(y_hat, y):
    if isinstance(y_hat, np.ndarray):
        return np.full(y_hat.shape, np.nan)
    out = torch.full(y_hat.shape, float("nan")) + y_hat * 0
    out[..., :1] = float("inf")
    return out
