# exercise: 5
# Correct: .backward() on fresh copies; explicit tolerance test.
import numpy as np
import torch


def chain_rule_grads(x, w1, b1, w2, b2):
    def leaves():
        return [t.detach().clone() for t in (x, w1, b1, w2, b2)]
    x_, w1_, b1_, w2_, b2_ = leaves()
    w1_.requires_grad_()
    y1 = x_ * w1_ + b1_
    y1.retain_grad()
    y2 = y1 * w2_ + b2_
    y2.sum().backward()
    dy2_dy1, dy2_dw1 = y1.grad.clone(), w1_.grad.clone()
    x_, w1_, b1_, w2_, b2_ = leaves()
    w1_.requires_grad_()
    (x_ * w1_ + b1_).sum().backward()
    return dy2_dy1, w1_.grad, dy2_dw1


def chain_rule_holds(dy2_dy1, dy1_dw1, dy2_dw1):
    product = dy2_dy1 * dy1_dw1
    return bool(((product - dy2_dw1).abs() <= 1e-6 + 1e-5 * dy2_dw1.abs()).all())


def manual_grad(x):
    return (x + 1).mul(4).div(x.numel())
