# exercise: 6
import numpy as np
import torch
from torch import nn

# %% [markdown]
# # Exercise 6: the MNIST training loop
#
# MNIST is a data set of 28×28 grey-scale pictures of handwritten digits, each labelled
# 0 to 9. You will write every piece of a training loop for a small network:
#
# * `transform`: turn one image into the numbers the network reads;
# * `build_net`: a 784-200-10 network with a ReLU in the middle;
# * `sgd_update`: the parameter update, written by hand (no `torch.optim`);
# * `train_epoch`: one pass over the training data;
# * `evaluate`: the accuracy on held-out data.
#
# The grader replays your loop against a reference: it starts from the same initial
# weights and feeds the batches in the same order, so follow the steps exactly as
# described and add no randomness of your own (no shuffling, no re-initialising).
#
# A **loader** is any iterable of `(images, labels)` batches: `images` float32 `(B, 784)`,
# `labels` int64 `(B,)`; the last batch may be smaller. It may be a `DataLoader` or just a
# list, so do not use `loader.dataset` or `len(loader)`.

# %% [markdown]
# ## `transform(image)`
#
# The raw image holds integers from 0 to 255 (`uint8`). Networks train better on small
# numbers centred on 0, so scale each pixel to $[-1, 1]$:
#
# $$x' = \frac{x / 255 - 0.5}{0.5}$$
#
# and flatten the 28×28 grid into one row of 784 values, as `nn.Linear(784, ...)` expects.

# %%
def transform(image):
    """One 28x28 uint8 image to a flat float32 tensor of 784 values in [-1, 1].

    Args:
        image: a 28x28 array of integers 0..255, as a numpy array or a torch tensor.

    Returns:
        A torch.float32 tensor of shape (784,): (x / 255 - 0.5) / 0.5.

    Example:
        a pixel 0 becomes -1.0, a pixel 255 becomes 1.0 (the middle, 127.5, is 0.0);
        transform(np.zeros((28, 28), dtype=np.uint8))    # 784 values, all -1.0

    Classic mistakes:
    * keeping numpy's float64: the network's weights are float32 and PyTorch raises
      "mat1 and mat2 must have the same dtype". Convert to float32;
    * forgetting to flatten: the result must be (784,), not (28, 28);
    * arithmetic on uint8 (such as 255 - x or x * 2) wraps around: convert first.
    Hint: torch.as_tensor(np.asarray(image), dtype=torch.float32) accepts both inputs.
    """
    ### BEGIN SOLUTION
    x = torch.as_tensor(np.asarray(image), dtype=torch.float32)
    return ((x / 255 - 0.5) / 0.5).reshape(784)
    ### END SOLUTION


# %% [markdown]
# ## `build_net()`
#
# Build the network with `nn.Sequential`: a linear layer from 784 inputs to 200 hidden
# units, a ReLU, and a linear layer from 200 to 10 outputs (one score per digit).

# %%
def build_net():
    """The 784-200-10 network: Linear(784, 200), ReLU, Linear(200, 10), in a Sequential.

    Args:
        None.

    Returns:
        An nn.Sequential with exactly these three layers, in this order.

    Example:
        net = build_net()
        net(torch.zeros(5, 784)).shape      # torch.Size([5, 10])

    Classic mistakes:
    * adding a Softmax at the end: nn.CrossEntropyLoss already applies it;
    * other layer sizes, or extra layers: the grader loads its own starting weights
      into your net, so the layers must match exactly.
    """
    ### BEGIN SOLUTION
    return nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10))
    ### END SOLUTION


# %% [markdown]
# ## `sgd_update(parameters, lr)`
#
# Plain gradient descent on every parameter: $p \leftarrow p - \eta \cdot \nabla p$.
# Unlike exercise 2 there is no division by the batch size here: `nn.CrossEntropyLoss`
# already averages over the batch. Do the update in place, inside `torch.no_grad()`, and
# skip any parameter whose `.grad` is `None`.

# %%
def sgd_update(parameters, lr):
    """In place and without autograd: p -= lr * p.grad for every parameter.

    Args:
        parameters: an iterable of tensors, e.g. net.parameters() (a generator:
            you can only loop over it once).
        lr: the learning rate, a Python float.

    Returns:
        Nothing (None). The parameters are changed in place.

    Example:
        p = nn.Parameter(torch.tensor([1.0])); p.grad = torch.tensor([2.0])
        sgd_update([p], lr=0.1)       # p becomes tensor([0.8])

    Classic mistakes:
    * forgetting `with torch.no_grad():`, so PyTorch refuses the in-place update;
    * writing `p = p - lr * p.grad`: that only renames a new tensor, the
      network's parameter does not change;
    * crashing on a parameter whose .grad is None: skip it.
    """
    ### BEGIN SOLUTION
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p -= lr * p.grad
    ### END SOLUTION


# %% [markdown]
# ## `train_epoch(net, loader, lr, criterion)`
#
# One pass over the training data. For each batch `(images, labels)`, in this order:
#
# 1. move both to the device of the network's parameters
#    (`device = next(net.parameters()).device`);
# 2. forward: `outputs = net(images)`;
# 3. loss: `loss = criterion(outputs, labels)`;
# 4. zero the gradients (`net.zero_grad()`): the net may arrive with leftover gradients;
# 5. backward: `loss.backward()`;
# 6. update: `sgd_update(net.parameters(), lr)`;
# 7. remember `loss.item()`.
#
# Return the list of those loss values, one Python float per batch.

# %%
def train_epoch(net, loader, lr, criterion):
    """One pass over loader with hand-written SGD; returns each batch's loss.

    Args:
        net: the network (e.g. from build_net()), on the CPU or a GPU.
        loader: an iterable of (images, labels) batches: float32 (B, 784), int64 (B,).
        lr: the learning rate.
        criterion: the loss function, e.g. nn.CrossEntropyLoss().

    Returns:
        A list of Python floats, the loss of every batch, in order.

    Example:
        loader = [(torch.randn(4, 784), torch.tensor([0, 1, 2, 3]))]
        train_epoch(build_net(), loader, 0.1, nn.CrossEntropyLoss())   # e.g. [2.31]

    Classic mistakes:
    * forgetting to zero the gradients: they add up from batch to batch;
    * zeroing them after backward() and before the update: the step then does nothing;
    * appending the loss tensor instead of loss.item() (it keeps the whole graph alive);
    * using torch.optim or len(loader): neither is allowed here.
    """
    ### BEGIN SOLUTION
    device = next(net.parameters()).device
    losses = []
    for images, labels in loader:
        images, labels = images.to(device), labels.to(device)
        outputs = net(images)
        loss = criterion(outputs, labels)
        net.zero_grad()
        loss.backward()
        sgd_update(net.parameters(), lr)
        losses.append(loss.item())
    return losses
    ### END SOLUTION


# %% [markdown]
# ## `evaluate(net, loader)`
#
# The accuracy: the fraction of examples whose highest score is the true label. The
# predicted class is `outputs.argmax(dim=1)`. Count correct answers and examples over the
# **whole** loader, then divide once at the end. Nothing is trained here, so run the
# network inside `torch.no_grad()`.

# %%
def evaluate(net, loader):
    """The exact fraction of correctly classified examples in loader.

    Args:
        net: the network.
        loader: an iterable of (images, labels) batches, as in train_epoch.

    Returns:
        A Python float in [0, 1]: correct / total over every example.

    Example:
        two batches: 3 correct out of 4, then 0 correct out of 1
        evaluate(net, loader)     # 3 / 5 = 0.6 (not the mean of 0.75 and 0.0)

    Classic mistakes:
    * averaging the accuracy of each batch: wrong when the last batch is smaller;
    * forgetting torch.no_grad(), which wastes memory building graphs;
    * forgetting to move each batch to the network's device;
    * integer division, or returning a tensor instead of a float: use .item().
    """
    ### BEGIN SOLUTION
    device = next(net.parameters()).device
    correct, total = 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            correct += (net(images).argmax(dim=1) == labels).sum().item()
            total += labels.numel()
    return correct / total
    ### END SOLUTION


# %% [markdown]
# ## Try it yourself
#
# The cell below is tagged `skip-grading`: the grader never runs it. Run it in Jupyter
# (or run `python exercise6.py`) to check your functions on made-up data (no download).

# %% tags=["skip-grading"]
def _self_check():
    """Run each function on small fake data and print what to expect."""
    torch.manual_seed(0)
    try:
        x = transform(np.full((28, 28), 255, dtype=np.uint8))
        print("transform:", tuple(x.shape), x.dtype, float(x.max()),
              "expected (784,) torch.float32 1.0")
    except NotImplementedError:
        print("transform: not written yet")
    try:
        net = build_net()
        print("build_net:", net)
    except NotImplementedError:
        print("build_net: not written yet (the checks below need it)")
        return
    # A fake, easy task: the label is 1 when the first pixel is positive, else 0.
    images = torch.randn(200, 784)
    labels = (images[:, 0] > 0).long()
    loader = [(images[i:i + 32], labels[i:i + 32]) for i in range(0, 200, 32)]
    try:
        for epoch in range(5):
            losses = train_epoch(net, loader, 0.1, nn.CrossEntropyLoss())
            mean = sum(losses) / len(losses)
            print(f"train_epoch {epoch}: mean loss {mean:.3f} over {len(losses)} batches")
        print("(expected: 7 batches, the loss going down)")
    except NotImplementedError:
        print("train_epoch or sgd_update: not written yet")
    try:
        print("evaluate:", evaluate(net, loader), "(a float in [0, 1], higher after training)")
    except NotImplementedError:
        print("evaluate: not written yet")


if __name__ == "__main__":
    _self_check()
