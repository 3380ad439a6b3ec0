# exercise: 5
"""Reference solution of exercise 5 (the chain rule, checked with autograd)."""
import torch


def chain_rule_grads(x, w1, b1, w2, b2):
    """(dy2/dy1, dy1/dw1, dy2/dw1) of y1 = x * w1 + b1, y2 = y1 * w2 + b2, by autograd."""
    w1 = w1.detach().clone().requires_grad_(True)
    y1 = x.detach() * w1 + b1.detach()
    y2 = y1 * w2.detach() + b2.detach()
    dy2_dy1, = torch.autograd.grad(y2.sum(), y1, retain_graph=True)
    dy1_dw1, = torch.autograd.grad(y1.sum(), w1, retain_graph=True)
    dy2_dw1, = torch.autograd.grad(y2.sum(), w1)
    return dy2_dy1, dy1_dw1, dy2_dw1


def chain_rule_holds(dy2_dy1, dy1_dw1, dy2_dw1):
    """True when dy2_dy1 * dy1_dw1 equals dy2_dw1 within rtol 1e-5, atol 1e-6."""
    return bool(torch.allclose(dy2_dy1 * dy1_dw1, dy2_dw1, rtol=1e-5, atol=1e-6))


def manual_grad(x):
    """dj/dx of j = mean(2 * (x + 1) ** 2), by hand: 4 * (x + 1) / x.numel()."""
    return 4 * (x + 1) / x.numel()
