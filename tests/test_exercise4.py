"""Exercise 4: references, stubs, correct-but-different and buggy submissions."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SUBMISSIONS, failing_checks, failing_functions, grade  # noqa: F401
from exercise_suite import suite
from grader.results import render as report
from grader.exercises.spec import load_exercise

ROOT = Path(__file__).resolve().parent.parent
N = 4
FOLDER = SUBMISSIONS / f"exercise{N}"
FUNCTIONS = set(load_exercise(N).functions)

# name -> (the functions that fail, a check that fails, its golden diagnosis or None)
BUGS = {
    'bug_relu_inplace': (['relu'], 'relu: leaves X unchanged and returns a new tensor',
        "in place instead of a copy: compute into a new array/tensor and leave the caller's inputs alone"),
    'bug_relu_clamp_': (['relu'], 'relu: leaves X unchanged and returns a new tensor',
        "in place instead of a copy: compute into a new array/tensor and leave the caller's inputs alone"),
    'bug_relu_float': (['relu'], "relu: keeps X's dtype and device (float32 and float64)",
        None),
    'bug_relu_torch_max': (['relu'], 'relu: computes max(X, 0)',
        None),
    'bug_relu_backward': (['relu'], 'relu: backward agrees with finite differences of your relu',
        None),
    'bug_relu_numpy': (['relu'], 'relu: backward: gradient 1 where X > 0, 0 where X < 0',
        None),
    'bug_relu_abs': (['relu'], 'relu: computes max(X, 0)',
        'your relu computed |X|: negative values must become 0, not positive'),
    'bug_mlp_no_relu': (['mlp'], 'mlp: computes relu(X @ W1 + b1) @ W2 + b2',
        'the hidden layer has no ReLU: two linear layers in a row are still linear'),
    'bug_mlp_no_reshape': (['mlp'], 'mlp: flattens X to (-1, num_inputs) first',
        None),
    'bug_mlp_elementwise': (['mlp'], 'mlp: computes relu(X @ W1 + b1) @ W2 + b2',
        None),
    'bug_mlp_relu_output': (['mlp'], 'mlp: computes relu(X @ W1 + b1) @ W2 + b2',
        None),
    'bug_relu_view': (['relu'], 'relu: computes max(X, 0)',
        "X.view(...) needs contiguous memory, which a transposed or sliced X does not have: X.reshape(...) works on any X"),
    'bug_mlp_view': (['mlp'], 'mlp: flattens X to (-1, num_inputs) first',
        "X.view(...) needs contiguous memory, which a transposed or sliced X does not have: X.reshape(...) works on any X"),
    'bug_mlp_detach': (['mlp'], 'mlp: backward reaches X, W1, b1, W2 and b2',
        'the result is not connected to this input: look for a .detach(), .data, .numpy() or torch.tensor(...) on the way'),
}


globals().update(suite(N, set(['relu', 'mlp']), BUGS, frozenset()))
_graded = graded  # noqa: F821 - set just above


def test_in_place_relu_report_says_so():
    result = _graded("bug_relu_inplace")
    failed = {c.test_name: c for c in result.checks}["relu: leaves X unchanged and returns a new tensor"]
    assert failed.failure.summary.startswith("relu changed its input `X` in place")


def test_wrong_custom_backward_is_caught_by_finite_differences():
    result = _graded("bug_relu_backward")
    assert failing_checks(result) == {"relu: backward: gradient 1 where X > 0, 0 where X < 0",
                                      "relu: backward agrees with finite differences of your relu"}
    failed = {c.test_name: c for c in result.checks}["relu: backward agrees with finite differences of your relu"]
    assert "worst entry (" in failed.failure.summary


def test_float_cast_fails_dtype_not_values():
    checks = failing_checks(_graded("bug_relu_float"))
    assert "relu: computes max(X, 0)" not in checks
    assert "relu: keeps X's dtype and device (float32 and float64)" in checks


import numpy as np  # noqa: E402
import torch  # noqa: E402

import reference.exercise4 as torch_ref  # noqa: E402
import reference.numpy_solutions as np_ref  # noqa: E402


def test_numpy_and_torch_references_agree_on_every_case():
    count = 0
    for check in load_exercise(N).checks:
        fn = check.function
        for seed in range(3):
            for case in check.cases(check.rng(seed)):
                args = {s["name"]: case.arrays[s["array"]].astype(np.float64) for s in case.params["args"]}
                got = getattr(torch_ref, fn)(**{k: torch.tensor(v) for k, v in args.items()}).numpy()
                want = getattr(np_ref, fn)(**args)
                assert got.shape == want.shape and np.allclose(got, want, rtol=1e-12, atol=1e-12)
                count += 1
    assert count >= 30


def test_finite_difference_inputs_keep_away_from_the_kink():
    for check in load_exercise(N).checks:
        if check.probe != "backward_fd":
            continue
        for seed in range(5):
            for case in check.cases(check.rng(seed)):
                a = case.arrays
                pre = a["X"] if check.function == "relu" else a["X"].reshape(-1, a["W1"].shape[0]) @ a["W1"] + a["b1"]
                assert np.abs(pre).min() >= 1e-3


def test_relu_in_place_error_gets_no_no_grad_advice():
    """The in-place autograd error in relu is a forward's: torch.no_grad() would cut the gradient."""
    result = _graded("bug_relu_inplace")
    failed = {c.test_name: c for c in result.checks}["relu: backward: gradient 1 where X > 0, 0 where X < 0"]
    assert "in-place" in failed.failure.diagnosis and "no_grad" not in failed.failure.diagnosis


def test_mlp_outputs_take_both_signs_so_an_output_relu_always_shows():
    for check in load_exercise(N).checks:
        if check.function != "mlp":
            continue
        for seed in range(20):
            for case in check.cases(check.rng(seed)):
                a = {k: v.astype(np.float64) for k, v in case.arrays.items()}
                out = np_ref.mlp(a["X"], a["W1"], a["b1"], a["W2"], a["b2"])
                assert out.size < 2 or (out.min() < 0 < out.max())


def test_a_non_contiguous_x_reaches_mlp():
    cases = {c.name: c for c in load_exercise(N).checks}["flattens X to (-1, num_inputs) first"].cases(
        np.random.default_rng(0))
    assert any(s.get("layout") == "non-contiguous" for c in cases for s in c.params["args"])
