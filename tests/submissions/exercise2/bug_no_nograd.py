# exercise: 2
def sgd(params, lr, batch_size):
    for p in params:
        if p.grad is not None:
            p -= lr * p.grad / batch_size
            p.grad.zero_()
