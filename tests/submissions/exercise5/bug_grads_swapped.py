# exercise: 5
# Bug: the first two gradients are returned in the wrong order.
import numpy as np
import torch


def chain_rule_grads(x, w1, b1, w2, b2):
    w1 = w1.detach().clone().requires_grad_(True)
    y1 = x.detach() * w1 + b1.detach()
    y2 = y1 * w2.detach() + b2.detach()
    dy2_dy1 = torch.autograd.grad(y2.sum(), y1, retain_graph=True)[0]
    dy1_dw1 = torch.autograd.grad(y1.sum(), w1, retain_graph=True)[0]
    dy2_dw1 = torch.autograd.grad(y2.sum(), w1)[0]
    return dy1_dw1, dy2_dy1, dy2_dw1


def chain_rule_holds(dy2_dy1, dy1_dw1, dy2_dw1):
    return torch.allclose(dy2_dy1 * dy1_dw1, dy2_dw1, rtol=1e-5, atol=1e-6)


def manual_grad(x):
    return 4 * (x + 1) / x.numel()
