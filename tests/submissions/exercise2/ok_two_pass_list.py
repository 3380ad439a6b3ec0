# exercise: 2
# Correct: two loops, after turning any iterable (a generator too) into a list first.
import torch


def sgd(params, lr, batch_size):
    params = list(params)
    with torch.no_grad():
        for param in params:
            if param.grad is not None:
                param.sub_(lr * param.grad / batch_size)
    for param in params:
        param.grad = None
