# exercise: 3
# Bug: trains for 5 epochs by default where the contract says num_epochs=3 (it still learns w and b).
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
    return X @ w + b


def linreg_grad(X, y, w, b):
    n = X.shape[0]
    r = X @ w + b - y.reshape(-1, 1)
    return X.T @ r / n, r.sum(axis=0) / n


def normal_equation(X, y):
    X1 = np.concatenate([np.ones((len(X), 1)), X], axis=1)
    theta = np.linalg.solve(X1.T @ X1, X1.T @ y.reshape(-1, 1))
    return theta[1:].reshape(-1, 1), theta[:1].reshape(1)

def train_linreg(features, labels, lr=0.03, num_epochs=5, batch_size=10):
    w = torch.normal(0, 0.01, size=(features.shape[1], 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for epoch in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            l = squared_loss(linreg(X, w, b), y)
            l.sum().backward()
            sgd([w, b], lr, batch_size)
    return w, b
