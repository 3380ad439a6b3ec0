# exercise: 6
"""GPU bug: evaluate keeps its counter in a CPU tensor and adds the CUDA count of each batch to
it in place (fails on a GPU: a CPU tensor cannot take a CUDA operand). It runs correctly on the
CPU, where the grader's device simulation catches it: the batches were moved, the counter was not."""
import numpy as np
import torch
from torch import nn


def transform(image):
    """One 28x28 uint8 image (numpy or tensor) to 784 float32 values in [-1, 1]."""
    x = torch.as_tensor(np.asarray(image), dtype=torch.float32)
    return ((x / 255 - 0.5) / 0.5).reshape(784)


def build_net():
    """The 784-200-10 network."""
    return nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10))


def sgd_update(parameters, lr):
    """p -= lr * p.grad, in place and outside autograd; parameters without a grad are skipped."""
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p -= lr * p.grad


def train_epoch(net, loader, lr, criterion):
    """One pass over loader with hand-written SGD; the loss of every batch as floats."""
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


def evaluate(net, loader):
    """The exact fraction of correctly classified examples in loader."""
    device = next(net.parameters()).device
    correct, total = torch.zeros((), dtype=torch.int64), 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            correct += (net(images).argmax(dim=1) == labels).sum()
            total += labels.numel()
    return correct.item() / total
