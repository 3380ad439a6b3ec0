# exercise: 6
"""Correct, another style: compact, the update in a comprehension-free helper with
torch._foreach-free arithmetic, zero_grad(set_to_none=True), a no_grad decorator."""
import numpy as np
import torch
from torch import nn


def transform(image):
    return torch.tensor(np.array(image), dtype=torch.float32).reshape(-1) * (2 / 255) - 1


def build_net():
    net = nn.Sequential()
    net.add_module("fc1", nn.Linear(784, 200))
    net.add_module("act", nn.ReLU())
    net.add_module("fc2", nn.Linear(200, 10))
    return net


def sgd_update(parameters, lr):
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p.copy_(p - lr * p.grad)


def train_epoch(net, loader, lr, criterion):
    dev = next(net.parameters()).device
    out = []
    for xb, yb in loader:
        xb, yb = xb.to(dev), yb.to(dev)
        net.zero_grad(set_to_none=True)
        loss = criterion(net(xb), yb)
        loss.backward()
        sgd_update(net.parameters(), lr=lr)
        out.append(loss.item())
    return out


@torch.no_grad()
def evaluate(net, loader):
    dev = next(net.parameters()).device
    right, n = 0, 0
    for xb, yb in loader:
        pred = net(xb.to(dev)).max(dim=1).indices
        right += pred.eq(yb.to(dev)).sum().item()
        n += yb.numel()
    return float(right) / n
