# exercise: 3
"""Reference solution of exercise 3 (linear regression), PyTorch and numpy."""
import numpy as np
import torch


def squared_loss(y_hat, y):
    """Given helper (exercise 1): element-wise (y_hat - y) ** 2 / 2, shaped like y_hat."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


def sgd(params, lr, batch_size):
    """Given helper (exercise 2): in place, p -= lr * p.grad / batch_size, then clear p.grad."""
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p -= lr * p.grad / batch_size
            p.grad.zero_()


def data_iter(batch_size, features, labels):
    """Given helper: (X, y) minibatches in a random order, each example once per pass."""
    num_examples = len(features)
    indices = torch.randperm(num_examples)
    for start in range(0, num_examples, batch_size):
        batch = indices[start:start + batch_size]
        yield features[batch], labels[batch]


def linreg(X, w, b):
    """The linear regression model X @ w + b, shape (n, 1)."""
    return X @ w + b


def linreg_grad(X, y, w, b):
    """(dw, db) of L = mean(1/2 (X @ w + b - y) ** 2), by hand in numpy."""
    n = X.shape[0]
    r = X @ w + b - np.reshape(y, (-1, 1))
    return X.T @ r / n, r.sum(axis=0) / n


def normal_equation(X, y):
    """Least squares with an intercept: lstsq on [1, X]; returns w (d, 1) and b (1,)."""
    X1 = np.concatenate([np.ones((X.shape[0], 1)), X], axis=1)
    theta, *_ = np.linalg.lstsq(X1, np.reshape(y, (-1, 1)), rcond=None)
    return theta[1:].reshape(-1, 1), theta[0].reshape(1)


def train_linreg(features, labels, lr=0.03, num_epochs=3, batch_size=10):
    """Minibatch SGD with linreg, squared_loss and sgd; returns the learned (w, b)."""
    w = torch.normal(0, 0.01,  # mutation: free (the contract leaves the initialisation free)
                     size=(features.shape[1], 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            squared_loss(linreg(X, w, b), y).sum().backward()
            sgd([w, b], lr, batch_size)
    return w, b
