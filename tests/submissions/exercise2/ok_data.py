# exercise: 2
# Correct, old style: updates .data and zeroes the grads.
def sgd(params, lr, batch_size):
    for p in params:
        if p.grad is not None:
            p.data -= lr * p.grad.data / batch_size
            p.grad.data.zero_()
