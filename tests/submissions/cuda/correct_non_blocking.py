# exercise: 6
"""Correct, another style: non_blocking copies with keyword arguments, the device read from
the first layer, gradients cleared by hand (p.grad = None), p.add_(grad, alpha=-lr)."""
import numpy as np
import torch
from torch import nn


def transform(image):
    return torch.as_tensor(np.asarray(image)).float().div(255).sub(0.5).div(0.5).reshape(-1)


def build_net():
    layers = [nn.Linear(784, 200), nn.ReLU(), nn.Linear(200, 10)]
    return nn.Sequential(*layers)


def sgd_update(parameters, lr):
    with torch.no_grad():
        for p in parameters:
            if p.grad is not None:
                p.add_(p.grad, alpha=-lr)


def _device(net):
    return net[0].weight.device


def train_epoch(net, loader, lr, criterion):
    device = _device(net)
    losses = []
    for batch in loader:
        images = batch[0].to(device=device, non_blocking=True)
        labels = batch[1].to(device=device, non_blocking=True)
        for p in net.parameters():
            p.grad = None
        loss = criterion(net(images), labels)
        loss.backward()
        sgd_update(net.parameters(), lr)
        losses.append(loss.detach().cpu().item())
    return losses


def evaluate(net, loader):
    device = _device(net)
    hits, seen = 0, 0
    with torch.no_grad():
        for images, labels in loader:
            scores = net(images.to(device, non_blocking=True))
            hits += int(torch.sum(scores.argmax(1) == labels.to(device)))
            seen += labels.shape[0]
    return hits / seen
