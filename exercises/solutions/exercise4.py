# exercise: 4
import numpy as np
import torch

# %% [markdown]
# # Exercise 4: ReLU and a two-layer perceptron
#
# A linear model can only draw straight lines. Put a non-linear **activation function**
# between two linear layers and you get a multilayer perceptron (MLP), which can learn
# far more. The most popular activation is the rectified linear unit:
#
# $$\mathrm{ReLU}(x) = \max(x, 0)$$
#
# A whole network is just matrix operations: write it as matrix products over a batch of
# examples (one example per row) rather than as loops, it is much faster.
#
# Graded here: `relu` and `mlp`.

# %% [markdown]
# ## `relu(X)`
#
# Keep the positive values, replace the negative ones with 0, element by element.
# For example `relu(torch.tensor([-2.0, 0.5, 3.0]))` is `tensor([0.0, 0.5, 3.0])`.
#
# Write it yourself with tensor operations (for example `torch.max(X, torch.zeros_like(X))`
# or `torch.clamp(X, min=0)`): calling `torch.relu` would skip the point of the exercise.
# The result must be a **new** tensor: do not change `X` itself.

# %%
def relu(X):
    """Element-wise ReLU: max(X, 0).

    Args:
        X: a floating-point tensor of any shape.

    Returns:
        A new tensor with X's shape, dtype and device; negative values replaced by 0.
        Autograd flows through it: the gradient is 1 where X > 0 and 0 where X < 0.

    Example:
        X = torch.tensor([[-1.0, 2.0], [0.5, -3.0]])
        relu(X)         # tensor([[0.0, 2.0], [0.5, 0.0]])
        X               # unchanged: tensor([[-1.0, 2.0], [0.5, -3.0]])

    Classic mistakes:
    * changing X in place (X[X < 0] = 0): it modifies the caller's data and breaks
      autograd on tensors that require grad;
    * torch.zeros(X.shape) as the zero: it is always float32 on the CPU. Use
      torch.zeros_like(X) to match X's dtype and device.
    """
    ### BEGIN SOLUTION
    return torch.max(X, torch.zeros_like(X))
    ### END SOLUTION


# %% [markdown]
# ## `mlp(X, W1, b1, W2, b2)`
#
# A two-layer perceptron. With `num_inputs = W1.shape[0]`:
#
# $$\mathbf{H} = \mathrm{ReLU}(\mathbf{X}\mathbf{W}_1 + \mathbf{b}_1) \qquad
#   \mathbf{O} = \mathbf{H}\mathbf{W}_2 + \mathbf{b}_2$$
#
# First flatten each example into one row with `X.reshape(-1, num_inputs)` (a batch of
# images `(n, 28, 28)` becomes `(n, 784)`). Use your `relu` from above.

# %%
def mlp(X, W1, b1, W2, b2):
    """A two-layer perceptron: relu(X.reshape(-1, W1.shape[0]) @ W1 + b1) @ W2 + b2.

    Args:
        X: the inputs, any shape whose size is a multiple of num_inputs = W1.shape[0].
        W1: (num_inputs, num_hiddens) and b1: (num_hiddens,), the hidden layer.
        W2: (num_hiddens, num_outputs) and b2: (num_outputs,), the output layer.

    Returns:
        The outputs, shape (n, num_outputs), n = X.numel() // num_inputs.

    Example:
        X = torch.tensor([[1.0, -1.0]])               # 1 example, 2 inputs
        W1 = torch.eye(2); b1 = torch.zeros(2)         # hidden = relu([1, -1]) = [1, 0]
        W2 = torch.tensor([[2.0], [3.0]]); b2 = torch.tensor([0.5])
        mlp(X, W1, b1, W2, b2)                         # tensor([[2.5]])

    Classic mistakes:
    * X * W1 (element-wise) instead of the matrix product X @ W1;
    * forgetting the reshape, so a batch of 2-D images does not line up with W1;
    * forgetting the ReLU: two linear layers in a row are still just linear.
    """
    ### BEGIN SOLUTION
    H = relu(X.reshape(-1, W1.shape[0]) @ W1 + b1)
    return H @ W2 + b2
    ### END SOLUTION


# %% [markdown]
# ## Try it yourself
#
# The cell below is tagged `skip-grading`: the grader never runs it. Run it in Jupyter
# (or run `python exercise4.py`) to check your functions on small examples.

# %% tags=["skip-grading"]
def _self_check():
    """Try relu and mlp on tiny inputs with known answers."""
    try:
        X = torch.tensor([[-1.0, 2.0], [0.5, -3.0]], requires_grad=True)
        out = relu(X)
        print("relu:", out.tolist(), "expected", [[0.0, 2.0], [0.5, 0.0]])
        out.sum().backward()
        print("relu gradient:", X.grad.tolist(), "expected", [[0.0, 1.0], [1.0, 0.0]])
        print("X unchanged:", X.tolist() == [[-1.0, 2.0], [0.5, -3.0]])
    except NotImplementedError:
        print("relu: not written yet")
    try:
        out = mlp(torch.tensor([[1.0, -1.0]]), torch.eye(2), torch.zeros(2),
                  torch.tensor([[2.0], [3.0]]), torch.tensor([0.5]))
        print("mlp:", out.tolist(), "expected", [[2.5]])
        images = torch.randn(5, 28, 28)
        W1, b1 = torch.randn(784, 200), torch.zeros(200)
        W2, b2 = torch.randn(200, 10), torch.zeros(10)
        out = mlp(images, W1, b1, W2, b2)
        print("mlp on 5 images:", tuple(out.shape), "expected", (5, 10))
    except NotImplementedError:
        print("mlp: not written yet")


if __name__ == "__main__":
    _self_check()
