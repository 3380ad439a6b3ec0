# exercise: 5
import numpy as np
import torch

# %% [markdown]
# # Exercise 5: the chain rule, checked with autograd
#
# Backpropagation is the chain rule applied over and over. Take two little "layers",
# element-wise on tensors of one shape:
#
# $$y_1 = x \cdot w_1 + b_1 \qquad y_2 = y_1 \cdot w_2 + b_2$$
#
# The chain rule says
#
# $$\frac{\partial y_2}{\partial w_1} = \frac{\partial y_2}{\partial y_1} \cdot
#   \frac{\partial y_1}{\partial w_1}$$
#
# Here you ask PyTorch's autograd for all three gradients and check that the rule holds.
# Then you compute a gradient by hand, without autograd at all.
#
# Graded here: `chain_rule_grads`, `chain_rule_holds` and `manual_grad`.

# %% [markdown]
# ## `chain_rule_grads(x, w1, b1, w2, b2)`
#
# `torch.autograd.grad(outputs, inputs)` returns the gradients of a **scalar** output with
# respect to each input (a tuple, one entry per input). It does not touch any `.grad`.
#
# * Your inputs may arrive without `requires_grad`: make your own copy of `w1` that
#   requires grad (`w1.detach().clone().requires_grad_(True)`), so the caller's tensors
#   are never modified.
# * To differentiate a tensor that is not a scalar, differentiate its sum: `y2.sum()`.
# * You ask for several gradients of the same graph, so pass `retain_graph=True` to every
#   call but the last (otherwise PyTorch frees the graph after the first call).

# %%
def chain_rule_grads(x, w1, b1, w2, b2):
    """The three gradients of the chain y1 = x * w1 + b1, y2 = y1 * w2 + b2.

    Args:
        x, w1, b1, w2, b2: tensors of the same shape; they may or may not require grad.

    Returns:
        (dy2_dy1, dy1_dw1, dy2_dw1), each shaped like x:
        d y2.sum() / d y1, d y1.sum() / d w1 and d y2.sum() / d w1,
        all computed with torch.autograd.grad.

    Example (scalars):
        x = 2, w1 = 3, b1 = 1, w2 = 4, b2 = 0:
        dy2_dy1 = w2 = 4,  dy1_dw1 = x = 2,  dy2_dw1 = w2 * x = 8.

    Classic mistakes:
    * calling .backward(): it writes into the .grad of the caller's tensors;
    * forgetting retain_graph=True: "Trying to backward through the graph a second time";
    * calling autograd.grad on y2 instead of y2.sum(): "grad can be implicitly created
      only for scalar outputs".
    """
    ### BEGIN SOLUTION
    w1 = w1.detach().clone().requires_grad_(True)
    y1 = x.detach() * w1 + b1.detach()
    y2 = y1 * w2.detach() + b2.detach()
    dy2_dy1, = torch.autograd.grad(y2.sum(), y1, retain_graph=True)
    dy1_dw1, = torch.autograd.grad(y1.sum(), w1, retain_graph=True)
    dy2_dw1, = torch.autograd.grad(y2.sum(), w1)
    return dy2_dy1, dy1_dw1, dy2_dw1
    ### END SOLUTION


# %% [markdown]
# ## `chain_rule_holds(dy2_dy1, dy1_dw1, dy2_dw1)`
#
# Check the chain rule on three gradients: is `dy2_dy1 * dy1_dw1` equal to `dy2_dw1`,
# element by element? Floating-point numbers are rarely *exactly* equal, so compare within
# a tolerance (relative `1e-5`, absolute `1e-6`); `torch.allclose` does exactly that.
# The grader also gives you triples that do **not** agree: then return `False`.

# %%
def chain_rule_holds(dy2_dy1, dy1_dw1, dy2_dw1):
    """True when dy2_dy1 * dy1_dw1 equals dy2_dw1 element-wise, within tolerance.

    Args:
        dy2_dy1, dy1_dw1, dy2_dw1: tensors of one shape, e.g. from chain_rule_grads.

    Returns:
        A Python bool (True or False), not a tensor. Use relative tolerance 1e-5 and
        absolute tolerance 1e-6.

    Example:
        a = torch.tensor([4.0]); b = torch.tensor([2.0])
        chain_rule_holds(a, b, torch.tensor([8.0]))    # True
        chain_rule_holds(a, b, torch.tensor([9.0]))    # False

    Classic mistakes:
    * returning a tensor such as tensor(True): wrap it with bool(...);
    * comparing with == : tiny rounding errors make equal values look different;
    * checking only the first element, or only the sums, instead of every element.
    """
    ### BEGIN SOLUTION
    return bool(torch.allclose(dy2_dy1 * dy1_dw1, dy2_dw1, rtol=1e-5, atol=1e-6))
    ### END SOLUTION


# %% [markdown]
# ## `manual_grad(x)`
#
# Now without autograd. Let $n$ be the number of elements of $x$ and
#
# $$j = \mathrm{mean}\left(2 (x + 1)^2\right) = \frac{1}{n} \sum_i 2 (x_i + 1)^2$$
#
# Work out $\partial j / \partial x_i$ on paper, then write it as a tensor expression.
# (Answer to check your algebra: $\frac{4 (x_i + 1)}{n}$.)

# %%
def manual_grad(x):
    """The gradient dj/dx of j = mean(2 * (x + 1) ** 2), written by hand.

    Args:
        x: a floating-point tensor of any shape. It may not require grad, and the
            grader calls you inside torch.no_grad().

    Returns:
        A tensor shaped like x: 4 * (x + 1) / x.numel().

    Example:
        x = torch.tensor([0.0, 1.0])      # n = 2
        manual_grad(x)                    # tensor([2.0, 4.0])

    Classic mistakes:
    * using autograd (backward or autograd.grad): it fails under torch.no_grad()
      and on tensors that do not require grad. Just write the formula;
    * forgetting the 1/n that comes from the mean;
    * dividing by len(x): for a 2-D tensor that is the number of rows, not of elements.
    """
    ### BEGIN SOLUTION
    return 4 * (x + 1) / x.numel()
    ### END SOLUTION


# %% [markdown]
# ## Try it yourself
#
# The cell below is tagged `skip-grading`: the grader never runs it. Run it in Jupyter
# (or run `python exercise5.py`) to check your functions on small examples.

# %% tags=["skip-grading"]
def _self_check():
    """Try the three functions on small tensors with known answers."""
    x, w1, b1, w2, b2 = (torch.tensor([v]) for v in (2.0, 3.0, 1.0, 4.0, 0.0))
    try:
        grads = chain_rule_grads(x, w1, b1, w2, b2)
        print("chain_rule_grads:", [g.tolist() for g in grads], "expected", [[4.0], [2.0], [8.0]])
    except NotImplementedError:
        print("chain_rule_grads: not written yet")
    try:
        a, b = torch.tensor([4.0]), torch.tensor([2.0])
        print("chain_rule_holds:", chain_rule_holds(a, b, torch.tensor([8.0])),
              chain_rule_holds(a, b, torch.tensor([9.0])), "expected True False")
    except NotImplementedError:
        print("chain_rule_holds: not written yet")
    try:
        x = torch.tensor([[0.0, 1.0], [-1.0, 3.0]])
        with torch.no_grad():
            print("manual_grad:", manual_grad(x).tolist(), "expected", [[1.0, 2.0], [0.0, 4.0]])
    except NotImplementedError:
        print("manual_grad: not written yet")


if __name__ == "__main__":
    _self_check()
