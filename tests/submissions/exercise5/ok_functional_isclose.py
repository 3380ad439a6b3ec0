# exercise: 5
# Correct: torch.autograd.functional.vjp; math.isclose per element.
import numpy as np
import torch


def chain_rule_grads(x, w1, b1, w2, b2):
    x, w1, b1, w2, b2 = (t.detach() for t in (x, w1, b1, w2, b2))
    ones = torch.ones_like(x)
    _, dy2_dy1 = torch.autograd.functional.vjp(lambda y1: y1 * w2 + b2, x * w1 + b1, ones)
    _, dy1_dw1 = torch.autograd.functional.vjp(lambda w: x * w + b1, w1, ones)
    _, dy2_dw1 = torch.autograd.functional.vjp(lambda w: (x * w + b1) * w2 + b2, w1, ones)
    return dy2_dy1, dy1_dw1, dy2_dw1


import math


def chain_rule_holds(dy2_dy1, dy1_dw1, dy2_dw1):
    products = (dy2_dy1 * dy1_dw1).flatten().tolist()
    targets = dy2_dw1.flatten().tolist()
    return all(abs(p - t) <= 1e-6 + 1e-5 * abs(t) for p, t in zip(products, targets))


def manual_grad(x):
    return 4 * x / x.numel() + 4 / x.numel()
