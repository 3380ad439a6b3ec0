# exercise: 3
import numpy as np
import torch

# %% [markdown]
# # Exercise 3: linear regression, three ways
#
# A linear regression model predicts $\hat{y} = \mathbf{X}\mathbf{w} + b$. We fit it by
# minimising the mean squared loss over the $n$ training examples:
#
# $$L(\mathbf{w}, b) = \frac{1}{n} \sum_{i=1}^{n} \frac{1}{2}
#   \left(\mathbf{w}^{\top}\mathbf{x}^{(i)} + b - y^{(i)}\right)^{2}$$
#
# You will find the best $\mathbf{w}$ and $b$ in three ways:
#
# 1. with the gradient written by hand in numpy (`linreg_grad`);
# 2. in closed form, with the normal equation (`normal_equation`);
# 3. with minibatch SGD and PyTorch's autograd (`train_linreg`).
#
# The first code cells below are **given**: working copies of `squared_loss` (exercise 1),
# `sgd` (exercise 2) and a minibatch reader `data_iter`. They are not graded; use them.
# The graded functions are `linreg`, `linreg_grad`, `normal_equation` and `train_linreg`.

# %% [markdown]
# ## Given helpers (not graded)

# %%
# Given: a working squared_loss from exercise 1. It is not graded; you can use it as is.
def squared_loss(y_hat, y):
    """Element-wise squared loss (y_hat - y) ** 2 / 2, shaped like y_hat (no reduction)."""
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2


# %%
# Given: a working sgd from exercise 2. It is not graded; you can use it as is.
def sgd(params, lr, batch_size):
    """In place, p -= lr * p.grad / batch_size for each p, then clear p.grad."""
    with torch.no_grad():
        for p in params:
            if p.grad is None:
                continue
            p -= lr * p.grad / batch_size
            p.grad.zero_()


# %%
# Given: a minibatch reader. It is not graded; you can use it as is.
def data_iter(batch_size, features, labels):
    """Yield (X, y) minibatches of batch_size examples, in a random order.

    Every example appears exactly once per pass; the last batch may be smaller.
    """
    num_examples = len(features)
    indices = torch.randperm(num_examples)
    for start in range(0, num_examples, batch_size):
        batch = indices[start:start + batch_size]
        yield features[batch], labels[batch]


# %% [markdown]
# ## `linreg(X, w, b)`
#
# The model itself: one matrix product and one addition. `X` holds one example per row
# `(n, d)`, `w` is a column `(d, 1)` and `b` has shape `(1,)`; broadcasting adds `b` to
# every row. The result is a column of predictions `(n, 1)`.

# %%
def linreg(X, w, b):
    """The linear regression model: X @ w + b.

    Args:
        X: features, shape (n, d), one example per row.
        w: weights, shape (d, 1).
        b: bias, shape (1,).

    Returns:
        The predictions, shape (n, 1).

    Example:
        X = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
        w = torch.tensor([[1.0], [-1.0]])
        b = torch.tensor([0.5])
        linreg(X, w, b)      # tensor([[-0.5], [-0.5]])

    Classic mistake: X * w (element-wise, broadcasting to a wrong shape) instead of the
    matrix product X @ w (or torch.matmul(X, w)).
    """
    ### BEGIN SOLUTION
    return X @ w + b
    ### END SOLUTION


# %% [markdown]
# ## `linreg_grad(X, y, w, b)` (numpy)
#
# The gradient of the mean loss, written by hand, with no autograd. Call the residuals
# $\mathbf{r} = \mathbf{X}\mathbf{w} + b - \mathbf{y}$ (a column $(n, 1)$). Then
#
# $$\frac{\partial L}{\partial \mathbf{w}} = \frac{1}{n}\mathbf{X}^{\top}\mathbf{r}
#   \qquad \frac{\partial L}{\partial b} = \frac{1}{n}\sum_{i} r_i$$
#
# Everything here is a numpy array: `X` `(n, d)`, `y` `(n,)` or `(n, 1)`, `w` `(d, 1)`,
# `b` `(1,)`.

# %%
def linreg_grad(X, y, w, b):
    """The analytic gradient (dw, db) of L = mean(1/2 * (X @ w + b - y) ** 2), in numpy.

    Args:
        X: numpy array (n, d).
        y: numpy array with n values, shape (n,) or (n, 1).
        w: numpy array (d, 1).
        b: numpy array (1,).

    Returns:
        (dw, db): dw shaped like w (d, 1), db shaped like b (1,).

    Example:
        X = np.array([[1.0], [2.0]]); y = np.array([1.0, 1.0])
        w = np.array([[1.0]]); b = np.array([0.0])
        # residuals r = [[0.0], [1.0]], n = 2
        linreg_grad(X, y, w, b)    # (array([[1.0]]), array([0.5]))

    Classic mistake: y of shape (n,) minus predictions of shape (n, 1) broadcasts to
    (n, n). Use y.reshape(-1, 1). And remember the 1/n from the mean.
    Hint: r.sum(axis=0) / n already has the shape (1,).
    """
    ### BEGIN SOLUTION
    n = X.shape[0]
    r = X @ w + b - np.reshape(y, (-1, 1))
    return X.T @ r / n, r.sum(axis=0) / n
    ### END SOLUTION


# %% [markdown]
# ## `normal_equation(X, y)` (numpy)
#
# Linear regression has an exact solution. Add a column of ones to `X` so that the bias
# becomes one more weight: $\tilde{\mathbf{X}} = [\mathbf{1}, \mathbf{X}]$. The best
# parameters $\boldsymbol{\theta} = (b, \mathbf{w})$ then solve
#
# $$\boldsymbol{\theta}^{*} = \left(\tilde{\mathbf{X}}^{\top}\tilde{\mathbf{X}}\right)^{-1}
#   \tilde{\mathbf{X}}^{\top}\mathbf{y}$$
#
# Split $\boldsymbol{\theta}^{*}$ back into `w` `(d, 1)` and `b` `(1,)`.

# %%
def normal_equation(X, y):
    """The closed-form least-squares fit of y = X @ w + b, in numpy.

    Args:
        X: numpy array (n, d).
        y: numpy array with n values, shape (n,) or (n, 1).

    Returns:
        (w, b): w of shape (d, 1) and b of shape (1,).

    Example:
        X = np.array([[0.0], [1.0], [2.0]]); y = np.array([1.0, 3.0, 5.0])   # y = 2x + 1
        normal_equation(X, y)     # (array([[2.]]), array([1.]))

    Steps: X1 = np.concatenate([np.ones((n, 1)), X], axis=1), solve for theta, then
    b = theta[:1] and w = theta[1:].reshape(-1, 1).
    Hint: np.linalg.solve(X1.T @ X1, X1.T @ y) or np.linalg.lstsq(X1, y, rcond=None)
    is more accurate than computing the inverse with np.linalg.inv.
    Classic mistake: forgetting the column of ones, so the fit has no intercept.
    """
    ### BEGIN SOLUTION
    X1 = np.concatenate([np.ones((X.shape[0], 1)), X], axis=1)
    theta, *_ = np.linalg.lstsq(X1, np.reshape(y, (-1, 1)), rcond=None)
    return theta[1:].reshape(-1, 1), theta[0].reshape(1)
    ### END SOLUTION


# %% [markdown]
# ## `train_linreg(features, labels, lr=0.03, num_epochs=3, batch_size=10)`
#
# Now train the model from scratch with autograd: no `torch.optim`, no `nn.Linear`.
#
# 1. Start with small random weights `w` `(d, 1)` (normal, standard deviation 0.01) and
#    a zero bias `b` `(1,)`, both with `requires_grad=True`.
# 2. For each epoch, for each minibatch `X, y` from `data_iter`: compute the loss with
#    `squared_loss(linreg(X, w, b), y)`, call `.sum().backward()` on it, then
#    `sgd([w, b], lr, batch_size)`.
# 3. Return `(w, b)`.
#
# On 1000 examples made as `y = X @ [2, -3.4] + 4.2 + noise` it should find `w` close to
# `[[2], [-3.4]]` and `b` close to `[4.2]`.

# %%
def train_linreg(features, labels, lr=0.03, num_epochs=3, batch_size=10):
    """Fit linreg with minibatch SGD and autograd; return the learned (w, b).

    Args:
        features: float32 tensor (n, d).
        labels: float32 tensor (n,).
        lr: learning rate.  num_epochs: passes over the data.
        batch_size: examples per minibatch.

    Returns:
        (w, b) of shapes (d, 1) and (1,). They may still require grad.

    Sketch:
        w = torch.normal(0, 0.01, size=(d, 1), requires_grad=True)
        b = torch.zeros(1, requires_grad=True)
        for epoch in range(num_epochs):
            for X, y in data_iter(batch_size, features, labels):
                ...   # loss, backward, sgd

    Classic mistakes:
    * calling .mean().backward(): sgd already divides by batch_size, so the steps
      become batch_size times too small and 3 epochs are not enough. Use .sum();
    * forgetting to clear the gradients (the given sgd does it for you);
    * y (n,) against predictions (n, 1): squared_loss reshapes y for you.
    """
    ### BEGIN SOLUTION
    w = torch.normal(0, 0.01, size=(features.shape[1], 1), requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    for _ in range(num_epochs):
        for X, y in data_iter(batch_size, features, labels):
            squared_loss(linreg(X, w, b), y).sum().backward()
            sgd([w, b], lr, batch_size)
    return w, b
    ### END SOLUTION


# %% [markdown]
# ## Try it yourself
#
# The cell below is tagged `skip-grading`: the grader never runs it. Run it in Jupyter
# (or run `python exercise3.py`) to check your functions on made-up data.

# %% tags=["skip-grading"]
def _self_check():
    """Try each graded function on synthetic data with known answers."""
    torch.manual_seed(0)
    true_w, true_b = torch.tensor([2.0, -3.4]), 4.2
    features = torch.normal(0, 1, (1000, 2))
    labels = features @ true_w + true_b + torch.normal(0, 0.01, (1000,))
    X, y = features.numpy().astype(np.float64), labels.numpy().astype(np.float64)
    checks = [
        ("linreg", lambda: linreg(torch.ones(3, 2), torch.ones(2, 1), torch.ones(1)).tolist(),
         [[3.0], [3.0], [3.0]]),
        ("linreg_grad", lambda: [a.tolist() for a in linreg_grad(
            np.array([[1.0], [2.0]]), np.array([1.0, 1.0]), np.array([[1.0]]), np.array([0.0]))],
         [[[1.0]], [0.5]]),
        ("normal_equation", lambda: [a.round(2).tolist() for a in normal_equation(X, y)],
         [[[2.0], [-3.4]], [4.2]]),
        ("train_linreg", lambda: [a.detach().double().reshape(-1).round(decimals=2).tolist()
                                  for a in train_linreg(features, labels)],
         [[2.0, -3.4], [4.2]]),
    ]
    for name, run, expected in checks:
        try:
            print(f"{name}: {run()} expected about {expected}")
        except NotImplementedError:
            print(f"{name}: not written yet")


if __name__ == "__main__":
    _self_check()
