# exercise: 2
# Correct: torch's foreach ops on the parameters that have a gradient.
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        live = [p for p in params if p.grad is not None]
        grads = [p.grad for p in live]
        torch._foreach_add_(live, grads, alpha=-lr / batch_size)
        for g in grads:
            g.zero_()
