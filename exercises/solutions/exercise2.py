# exercise: 2
import numpy as np
import torch

# %% [markdown]
# # Exercise 2: minibatch stochastic gradient descent (SGD)
#
# Training a model means nudging its parameters, again and again, a small step against
# the gradient of the loss. With a minibatch $\mathcal{B}$ of examples and a learning rate
# $\eta$, one step of minibatch SGD is
#
# $$(\mathbf{w}, b) \leftarrow (\mathbf{w}, b) - \frac{\eta}{|\mathcal{B}|}
#   \sum_{i \in \mathcal{B}} \partial_{(\mathbf{w}, b)}\, l^{(i)}(\mathbf{w}, b)$$
#
# PyTorch's autograd computes the sum of the gradients for you: after
# `loss.sum().backward()`, each parameter `p` holds it in `p.grad`. Your job is the update
# itself. Exercise 3 uses this `sgd` to train a linear regression model.

# %% [markdown]
# ## `sgd(params, lr, batch_size)`
#
# For each parameter tensor `p` in `params`:
#
# 1. update it **in place**: `p -= lr * p.grad / batch_size`;
# 2. then clear its gradient (`p.grad.zero_()` or `p.grad = None`), because PyTorch *adds*
#    new gradients to old ones at every `backward()`.
#
# Two things to know:
#
# * the update must happen **outside autograd**, inside `with torch.no_grad():`.
#   Otherwise PyTorch refuses to change a leaf tensor that requires grad in place.
# * a parameter whose `.grad` is `None` (no gradient was computed for it) is skipped.
#
# After the call each `p` must be the very same tensor object as before, still a leaf with
# `requires_grad=True`: the caller keeps using it.

# %%
def sgd(params, lr, batch_size):
    """One step of minibatch SGD, done in place on every parameter.

    Args:
        params: a list (or any iterable) of leaf tensors with requires_grad=True,
            e.g. [w, b]; after backward() each has its summed gradient in p.grad.
        lr: the learning rate, a Python float such as 0.03.
        batch_size: the number of examples in the minibatch; divides the gradient.

    Returns:
        Nothing (None). The tensors in params are changed in place.

    Example:
        w = torch.tensor([1.0], requires_grad=True)
        (3 * w).sum().backward()          # w.grad is tensor([3.])
        sgd([w], lr=0.1, batch_size=2)    # w becomes 1 - 0.1 * 3 / 2 = 0.85
                                          # and w.grad is zeros (or None)

    Classic mistakes:
    * forgetting `with torch.no_grad():` (RuntimeError: a leaf Variable that
      requires grad is being used in an in-place operation);
    * writing `p = p - ...`: that makes a new tensor and leaves the parameter unchanged;
    * forgetting to clear p.grad, so gradients pile up from one step to the next.
    """
    ### BEGIN SOLUTION
    with torch.no_grad():
        for param in params:
            if param.grad is None:
                continue
            param -= lr * param.grad / batch_size
            param.grad.zero_()
    ### END SOLUTION


# %% [markdown]
# ## Try it yourself
#
# The cell below is tagged `skip-grading`: the grader never runs it. Run it in Jupyter
# (or run `python exercise2.py`) to check your function on a small example.

# %% tags=["skip-grading"]
def _self_check():
    """Take one SGD step on a tiny example and compare with the hand-computed result."""
    w = torch.tensor([1.0, -2.0], requires_grad=True)
    b = torch.zeros(1, requires_grad=True)
    (3 * w.sum() + 5 * b.sum()).backward()  # w.grad = [3, 3], b.grad = [5]
    same_w = w
    try:
        sgd([w, b], lr=0.1, batch_size=2)
    except NotImplementedError:
        print("sgd: not written yet")
        return
    print("w:", w.detach().tolist(), "expected", [0.85, -2.15])
    print("b:", b.detach().tolist(), "expected", [-0.25])
    print("same object:", w is same_w, "| still a leaf:", w.is_leaf,
          "| requires_grad:", w.requires_grad)
    print("gradient cleared:", w.grad is None or bool((w.grad == 0).all()))


if __name__ == "__main__":
    _self_check()
