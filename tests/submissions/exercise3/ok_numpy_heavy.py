# exercise: 3
# Correct: einsum gradient, pinv fit, own update loop with a mean loss.
import numpy as np
import torch


def squared_loss(y_hat, y):
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p -= lr * p.grad / batch_size
            p.grad.zero_()


def data_iter(batch_size, features, labels):
    num_examples = len(features)
    indices = torch.randperm(num_examples)
    for start in range(0, num_examples, batch_size):
        batch = indices[start:start + batch_size]
        yield features[batch], labels[batch]


def linreg(X, w, b):
    return torch.matmul(X, w) + b


def linreg_grad(X, y, w, b):
    r = np.einsum("nd,dk->nk", X, w) + b - np.asarray(y).reshape(-1, 1)
    dw = np.einsum("nd,nk->dk", X, r) / len(X)
    db = np.mean(r, axis=0)
    return dw, db


def normal_equation(X, y):
    A = np.hstack([X, np.ones((X.shape[0], 1))])
    theta = np.linalg.pinv(A) @ np.ravel(y)
    return theta[:-1].reshape(-1, 1), theta[-1:]


def train_linreg(features, labels, lr=0.03, num_epochs=3, batch_size=10):
    n, d = features.shape
    w = (0.01 * torch.randn(d, 1)).requires_grad_()
    b = torch.zeros(1).requires_grad_()
    for _ in range(num_epochs):
        order = torch.randperm(n)
        for i in range(0, n, batch_size):
            idx = order[i:i + batch_size]
            X, y = features[idx], labels[idx].reshape(-1, 1)
            loss = ((X @ w + b - y) ** 2 / 2).mean()
            loss.backward()
            with torch.no_grad():
                w -= lr * w.grad
                b -= lr * b.grad
                w.grad = None
                b.grad = None
    return w.detach(), b.detach()
