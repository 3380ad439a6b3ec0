# exercise: 3
# Correct: lstsq without the ones column (centred data), autograd.grad in the loop.
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
    return torch.mm(X, w).add(b)


def linreg_grad(X, y, w, b):
    y = y.reshape(len(y), 1)
    residual = X.dot(w) + b - y
    return X.T.dot(residual) / len(y), residual.mean(axis=0, keepdims=False)


def normal_equation(X, y):
    y = np.asarray(y, dtype=float).ravel()
    mx, my = X.mean(axis=0), y.mean()
    w, *_ = np.linalg.lstsq(X - mx, y - my, rcond=None)
    b = my - mx @ w
    return w[:, None], np.array([b])


def train_linreg(features, labels, lr=0.03, num_epochs=3, batch_size=10):
    w = torch.zeros(features.shape[1], 1, requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            loss = squared_loss(linreg(X, w, b), y).sum()
            gw, gb = torch.autograd.grad(loss, [w, b])
            with torch.no_grad():
                w.sub_(lr * gw / batch_size)
                b.sub_(lr * gb / batch_size)
    return w, b
