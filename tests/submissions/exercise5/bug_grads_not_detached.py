# exercise: 5
# Bug: works on plain inputs but fails when the inputs require grad (grads of b1 through x)?
import numpy as np
import torch


def chain_rule_grads(x, w1, b1, w2, b2):
    if not w1.requires_grad:
        w1 = w1.clone().requires_grad_(True)
    y1 = x * w1 + b1
    y2 = y1 * w2 + b2
    dy2_dy1 = torch.autograd.grad(y2.sum(), y1, retain_graph=True)[0]
    dy1_dw1 = torch.autograd.grad(y1.sum(), w1, retain_graph=True)[0]
    y2.sum().backward()
    return dy2_dy1, dy1_dw1, w1.grad


def chain_rule_holds(dy2_dy1, dy1_dw1, dy2_dw1):
    return torch.allclose(dy2_dy1 * dy1_dw1, dy2_dw1, rtol=1e-5, atol=1e-6)


def manual_grad(x):
    return 4 * (x + 1) / x.numel()
