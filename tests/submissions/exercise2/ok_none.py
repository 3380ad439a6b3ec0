# exercise: 2
# Correct, written differently: torch.no_grad as a decorator, sub_ with alpha, grad = None.
import torch


@torch.no_grad()
def sgd(params, lr, batch_size):
    for p in filter(lambda t: t.grad is not None, params):
        p.sub_(p.grad, alpha=lr / batch_size)
        p.grad = None
