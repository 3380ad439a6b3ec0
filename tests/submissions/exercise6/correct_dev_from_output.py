# exercise: 6
# Correct: the labels follow the device of the net's output.
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
        outputs = net(images.to(device))
        labels = labels.to(outputs.device)
        loss = criterion(outputs, labels)
        net.zero_grad()
        loss.backward()
        sgd_update(net.parameters(), lr)
        losses.append(loss.item())
    return losses


def evaluate(net, loader):
    device = next(net.parameters()).device
    correct, total = 0, 0
    with torch.no_grad():
        for images, labels in loader:
            scores = net(images.to(device))
            correct += (scores.argmax(1) == labels.to(scores.device)).sum().item()
            total += len(labels)
    return correct / total
