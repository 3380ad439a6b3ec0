# exercise: 1
# hostile: patches every comparison helper to say "equal", then returns a wrong loss
# expect: 1  (only "leaves its inputs unchanged" holds)
import numpy as np
import torch

np.allclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.isclose = lambda a, b, *x, **k: np.ones(np.shape(a), dtype=bool)
np.testing.assert_allclose = lambda *a, **k: None
torch.allclose = lambda *a, **k: True
torch.equal = lambda *a, **k: True
torch.testing.assert_close = lambda *a, **k: None


def squared_loss(y_hat, y):
    return y_hat * 0
