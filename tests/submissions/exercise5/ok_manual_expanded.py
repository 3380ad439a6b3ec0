# exercise: 5
# Correct but fragile: manual_grad expanded to 4x/n + 4/n (cancellation near x = -1).
import torch


def chain_rule_grads(x, w1, b1, w2, b2):
    x, w1, b1, w2, b2 = (t.detach() for t in (x, w1, b1, w2, b2))
    w1 = w1.clone().requires_grad_(True)
    y1 = x * w1 + b1
    y2 = y1 * w2 + b2
    dy2_dy1, = torch.autograd.grad(y2.sum(), y1, retain_graph=True)
    dy1_dw1, = torch.autograd.grad(y1.sum(), w1, retain_graph=True)
    dy2_dw1, = torch.autograd.grad(y2.sum(), w1)
    return dy2_dy1, dy1_dw1, dy2_dw1


def chain_rule_holds(dy2_dy1, dy1_dw1, dy2_dw1):
    return bool(torch.allclose(dy2_dy1 * dy1_dw1, dy2_dw1, rtol=1e-5, atol=1e-6))


def manual_grad(x):
    n = x.numel()
    return 4 * x / n + 4 / n
