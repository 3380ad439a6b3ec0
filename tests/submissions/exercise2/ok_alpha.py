# exercise: 2
# Correct, another rounding order: add_ with alpha = -lr / batch_size; None grads.
import torch


@torch.no_grad()
def sgd(params, lr, batch_size):
    for param in params:
        if param.grad is not None:
            param.add_(param.grad, alpha=-lr / batch_size)
            param.grad = None
