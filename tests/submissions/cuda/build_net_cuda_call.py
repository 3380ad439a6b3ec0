# exercise: 6
"""Bug seen on every machine: build_net returns the net on the GPU with `.cuda()` (written for a
GPU notebook). On a machine without CUDA the grader runs it with the move simulated and sees the
same net on the GPU. Everything else follows the net's device."""
import numpy as np
import torch
from torch import nn


def transform(image):
    """One 28x28 uint8 image (numpy or tensor) to 784 float32 values in [-1, 1]."""
    x = torch.as_tensor(np.asarray(image), dtype=torch.float32)
    return ((x / 255 - 0.5) / 0.5).reshape(784)


def build_net():
    """The 784-200-10 network."""
    return nn.Sequential(nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10)).cuda()


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
    correct, total = 0, 0
    with torch.no_grad():
        for images, labels in loader:
            images, labels = images.to(device), labels.to(device)
            correct += (net(images).argmax(dim=1) == labels).sum().item()
            total += labels.numel()
    return correct / total
