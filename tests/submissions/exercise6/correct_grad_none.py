# exercise: 6
"""Correct, another style: torch-only transform, p.grad = None, the update written inline,
F.cross_entropy-free criterion call through a helper, float(loss), inference_mode."""
import torch
from torch import nn


def transform(image):
    t = image if isinstance(image, torch.Tensor) else torch.from_numpy(image.copy())
    return t.to(torch.float32).flatten().div(127.5).sub(1.0)


def build_net():
    layers = [nn.Linear(28 * 28, 200), nn.ReLU(inplace=True), nn.Linear(200, 10)]
    return nn.Sequential(*layers)


def sgd_update(parameters, lr):
    with torch.no_grad():
        for p in filter(lambda q: q.grad is not None, parameters):
            p.sub_(p.grad, alpha=lr)


def _loss(net, criterion, batch, device):
    images, labels = (t.to(device=device, non_blocking=True) for t in batch)
    return criterion(net(images.view(-1, 784)), labels)


def train_epoch(net, loader, lr, criterion):
    device = next(iter(net.parameters())).device
    history = []
    for batch in loader:
        loss = _loss(net, criterion, batch, device)
        for p in net.parameters():
            p.grad = None
        loss.backward()
        with torch.no_grad():
            for p in net.parameters():
                p -= lr * p.grad
        history.append(float(loss))
    return history


@torch.inference_mode()
def evaluate(net, loader):
    device = next(net.parameters()).device
    hits = seen = 0
    for images, labels in loader:
        labels = labels.to(device)
        scores = net(images.to(device))
        hits += int(torch.sum(torch.argmax(scores, 1) == labels))
        seen += len(labels)
    return hits / seen
