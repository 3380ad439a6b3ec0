# exercise: 2
# Bug: two loops over params. With a generator (net.parameters()) the second loop sees
# nothing, so the gradients are never cleared.
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            if param.grad is not None:
                param -= lr * param.grad / batch_size
    for param in params:
        if param.grad is not None:
            param.grad.zero_()
