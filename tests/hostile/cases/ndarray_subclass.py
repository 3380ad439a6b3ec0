# exercise: 1
# hostile: returns ndarray / Tensor subclasses (with wrong data) whose comparisons lie
# expect: 1  (only "leaves its inputs unchanged" holds)
import numpy as np
import torch


class Liar(np.ndarray):
    def __eq__(self, other):
        return np.ones(self.shape, dtype=bool)

    def __array_finalize__(self, obj):
        pass


class TLiar(torch.Tensor):
    def __eq__(self, other):
        return torch.ones(self.shape, dtype=torch.bool)


def squared_loss(y_hat, y):
    if isinstance(y_hat, np.ndarray):
        return np.zeros(y_hat.shape).view(Liar)
    return torch.zeros(y_hat.shape).as_subclass(TLiar)
