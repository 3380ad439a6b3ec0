# exercise: 2
# Bug: indexes params by position; a generator (net.parameters()) has no len().
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for i in range(len(params)):
            if params[i].grad is None:
                continue
            params[i] -= lr * params[i].grad / batch_size
            params[i].grad.zero_()
