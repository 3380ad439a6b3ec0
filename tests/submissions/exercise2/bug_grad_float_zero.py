# exercise: 2
# Bug: "clears" the gradient by setting it to the number 0.
import torch


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for param in params:
            if param.grad is None:
                continue
            param -= lr * param.grad / batch_size
            param.grad = 0.
