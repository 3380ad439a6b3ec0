# exercise: 5
# Correct: one autograd.grad call for two inputs; numpy allclose.
import numpy as np
import torch


def chain_rule_grads(x, w1, b1, w2, b2):
    w1 = w1.detach().requires_grad_()
    y1 = x.detach() * w1 + b1.detach()
    y2 = y1 * w2.detach() + b2.detach()
    dy2_dy1, dy2_dw1 = torch.autograd.grad(y2.sum(), [y1, w1], retain_graph=True)
    (dy1_dw1,) = torch.autograd.grad(outputs=y1.sum(), inputs=(w1,))
    return dy2_dy1, dy1_dw1, dy2_dw1


def chain_rule_holds(dy2_dy1, dy1_dw1, dy2_dw1):
    a = (dy2_dy1 * dy1_dw1).detach().cpu().numpy()
    return bool(np.allclose(a, dy2_dw1.detach().cpu().numpy(), rtol=1e-5, atol=1e-6))


def manual_grad(x):
    n = x.numel()
    return x.add(1).mul(4.0 / n)
