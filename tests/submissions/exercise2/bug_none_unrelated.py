# exercise: 2
# Bug: a momentum buffer left as None; the None is not a .grad.
import torch

velocity = None


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            if param.grad is None:
                continue
            step = lr * param.grad / batch_size
            param -= step + velocity
            param.grad.zero_()
