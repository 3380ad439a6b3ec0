# exercise: 1
import numpy as np
import torch

# %% [markdown]
# # Exercise 1: the squared loss
#
# Linear regression measures how far a prediction $\hat{y}$ is from the true value $y$
# with the **squared loss** of one example:
#
# $$l = \frac{1}{2}\left(\hat{y} - y\right)^2$$
#
# The $\frac{1}{2}$ is only there so that the derivative comes out clean:
# $\partial l / \partial \hat{y} = \hat{y} - y$.
#
# In this exercise you write `squared_loss`, the loss that exercise 3 uses to train a
# linear regression model. Fill in the body of the function below (replace the
# `raise NotImplementedError(...)` line), then run the last cell to try it out.

# %% [markdown]
# ## `squared_loss(y_hat, y)`
#
# Return the loss of **every** example, one value per prediction: do not sum or average
# (the training loop decides that later). The result has the same shape as `y_hat`.
#
# Watch the shapes! A model usually predicts a column `(n, 1)` while the labels are often
# a flat vector `(n,)`. Subtracting the two does not fail: it *broadcasts* to an
# `(n, n)` matrix of every prediction minus every label, which is silently wrong.
# Reshape `y` to `y_hat`'s shape first.
#
# Your function must work both for PyTorch tensors (gradients must flow back to `y_hat`)
# and for numpy arrays. `.reshape` exists for both.

# %%
def squared_loss(y_hat, y):
    """Element-wise squared loss: (y_hat - y) ** 2 / 2, with no reduction.

    Args:
        y_hat: the predictions, e.g. shape (n, 1); a torch tensor or a numpy array.
        y: the true values, with as many elements as y_hat, often shape (n,).

    Returns:
        The loss of every example, with the same shape as y_hat.

    Example:
        y_hat = torch.tensor([[1.0], [2.0]])     # shape (2, 1)
        y = torch.tensor([0.0, 4.0])             # shape (2,)
        squared_loss(y_hat, y)                   # tensor([[0.5], [2.0]]), shape (2, 1)

    Classic mistake: writing (y_hat - y) ** 2 / 2 directly. With y_hat (n, 1) and y (n,)
    this broadcasts to shape (n, n) and the loss is wrong without any error.
    Use y.reshape(y_hat.shape) before subtracting.

    Use only operations that work for both torch and numpy (-, **, /, .reshape), and
    do not call .detach() or .numpy(): autograd must be able to flow back to y_hat.
    """
    ### BEGIN SOLUTION
    return (y_hat - y.reshape(y_hat.shape)) ** 2 / 2
    ### END SOLUTION


# %% [markdown]
# ## Try it yourself
#
# The cell below is tagged `skip-grading`: the grader never runs it. Run it in Jupyter
# (or run `python exercise1.py`) to check your function on a small example.

# %% tags=["skip-grading"]
def _self_check():
    """Compare squared_loss with hand-computed values on a tiny example."""
    try:
        y_hat = torch.tensor([[1.0], [2.0], [3.0]], requires_grad=True)
        y = torch.tensor([1.5, 2.0, 1.0])
        loss = squared_loss(y_hat, y)
    except NotImplementedError:
        print("squared_loss: not written yet")
        return
    print("loss:    ", loss.detach().reshape(-1).tolist(), "shape", tuple(loss.shape))
    print("expected:", [0.125, 0.0, 2.0], "shape", (3, 1))
    loss.sum().backward()
    print("gradient:", y_hat.grad.reshape(-1).tolist(), "expected", [-0.5, 0.0, 2.0])
    print("numpy:   ", squared_loss(np.array([[1.0], [2.0]]), np.array([0.0, 4.0])).tolist(),
          "expected", [[0.5], [2.0]])


if __name__ == "__main__":
    _self_check()
