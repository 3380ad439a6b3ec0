"""The numpy and PyTorch references agree in float64 on every check's inputs (exercises 1-2)."""
from __future__ import annotations

import numpy as np
import torch

from grader.judge import grade as judge
from grader.exercises.spec import load_exercise
from reference import exercise1, exercise2, numpy_solutions


def _cases(n: int, function: str):
    for p in judge.plan(load_exercise(n), seed=99):
        if p.check.function == function:
            yield from p.cases


def test_squared_loss_agrees() -> None:
    count = 0
    for case in _cases(1, "squared_loss"):
        y_hat = case.arrays["y_hat"].astype(np.float64)
        y = case.arrays["y"].astype(np.float64)
        t = exercise1.squared_loss(torch.tensor(y_hat), torch.tensor(y)).numpy()
        np.testing.assert_allclose(numpy_solutions.squared_loss(y_hat, y), t, rtol=1e-12, atol=0)
        count += 1
    assert count >= 10


def test_sgd_agrees() -> None:
    count = 0
    for case in _cases(2, "sgd"):
        lr, bs = case.context["lr"], case.context["batch_size"]
        specs = case.params["params"]
        arrays = [case.arrays[s["array"]].astype(np.float64) for s in specs]
        grads = [None if s["grad"] is None else case.arrays[s["grad"]].astype(np.float64) for s in specs]
        tensors = [torch.tensor(a, requires_grad=True) for a in arrays]
        for t, g in zip(tensors, grads):
            t.grad = None if g is None else torch.tensor(g)
        exercise2.sgd(tensors, lr, bs)
        numpy_solutions.sgd(arrays, grads, lr, bs)
        for a, t in zip(arrays, tensors):
            np.testing.assert_allclose(a, t.detach().numpy(), rtol=1e-12, atol=1e-15)
        count += 1
    assert count >= 10
