# exercise: 5
# Correct: the gradients of non-scalar outputs with grad_outputs (no .sum()); the d2l way to
# the gradient of a vector, y.backward(torch.ones_like(y)), for manual_grad's own check.
import torch


def chain_rule_grads(x, w1, b1, w2, b2):
    x, b1, w2, b2 = x.detach(), b1.detach(), w2.detach(), b2.detach()
    w1 = w1.detach().clone().requires_grad_()
    y1 = x * w1 + b1
    y2 = y1 * w2 + b2
    ones = torch.ones_like(y2)
    dy2_dy1 = torch.autograd.grad(y2, y1, grad_outputs=ones, retain_graph=True)[0]
    dy1_dw1 = torch.autograd.grad(y1, w1, grad_outputs=ones, retain_graph=True)[0]
    dy2_dw1 = torch.autograd.grad(y2, w1, grad_outputs=ones)[0]
    return dy2_dy1, dy1_dw1, dy2_dw1


def chain_rule_holds(dy2_dy1, dy1_dw1, dy2_dw1):
    return bool(torch.isclose(dy2_dy1 * dy1_dw1, dy2_dw1, rtol=1e-5, atol=1e-6).all())


def manual_grad(x):
    return 4 * (x + 1) / x.numel()


if __name__ == "__main__":
    x = torch.arange(4.0, requires_grad=True)
    j = 2 * (x + 1) ** 2
    j.backward(torch.ones_like(j) / x.numel())
    assert torch.allclose(x.grad, manual_grad(x.detach()))
