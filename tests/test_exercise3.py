"""Exercise 3: references, stubs, correct-but-different and buggy submissions."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SUBMISSIONS, failing_checks, failing_functions, grade  # noqa: F401
from exercise_suite import suite
from grader.results import render as report
from grader.exercises.spec import load_exercise

ROOT = Path(__file__).resolve().parent.parent
N = 3
FOLDER = SUBMISSIONS / f"exercise{N}"
FUNCTIONS = set(load_exercise(N).functions)

DEFAULTS_CHECK = "train_linreg: keeps the contract's defaults lr=0.03, num_epochs=3, batch_size=10"

# name -> (the functions that fail, a check that fails, its golden diagnosis or None)
BUGS = {
    'bug_grad_twice': (['linreg_grad'], "linreg_grad: matches the reference's autograd",
        'your gradient is 2× the expected one: did you drop the 1/2?'),
    'bug_grad_sum': (['linreg_grad'], "linreg_grad: matches the reference's autograd",
        'your gradient is 8× the expected one (n = 8): a sum where a mean belongs, or a missing 1/n?'),
    'bug_grad_broadcast': (['linreg_grad'], "linreg_grad: matches the reference's autograd",
        'y of shape (8,) broadcast against (8, 1) into (8, 8): reshape it first (y.reshape(-1, 1))'),
    'bug_grad_transposed': (['linreg_grad'], "linreg_grad: matches the reference's autograd",
        'the shape is the transpose of the expected one: are the operands or the result transposed?'),
    'bug_grad_swapped': (['linreg_grad'], "linreg_grad: matches the reference's autograd",
        'swapped outputs: you returned (db, dw); return (dw, db) in that order'),
    'bug_grad_db_scalar': (['linreg_grad'], "linreg_grad: matches the reference's autograd",
        'wrong shape of db: () instead of (1,); r.sum(axis=0) / n keeps the shape (1,)'),
    'bug_grad_sign': (['linreg_grad'], 'linreg_grad: agrees with finite differences of the loss',
        None),
    'bug_normal_no_intercept': (['normal_equation'], 'normal_equation: fits w and b, with an intercept',
        'the fit has no intercept: add a column of ones to X so that b is fitted too'),
    'bug_normal_swapped': (['normal_equation'], 'normal_equation: fits w and b, with an intercept',
        'swapped outputs: you returned (b, w); return (w, b) in that order'),
    'bug_train_b_not_updated': (['train_linreg'], 'train_linreg: recovers w = [2, -3.4] and b = 4.2 within 0.05',
        'b never changed during training: is b in the list given to sgd, and was it created with requires_grad=True?'),
    'bug_train_mean_loss': (['train_linreg'], 'train_linreg: recovers w = [2, -3.4] and b = 4.2 within 0.05',
        'training moved w and b towards the true values but stopped short: the steps are too small. A .mean() before backward() while sgd also divides by batch_size makes them 10× too small: use .sum()'),
    'bug_train_grads_not_cleared': (['train_linreg'], 'train_linreg: recovers w = [2, -3.4] and b = 4.2 within 0.05',
        'training did not settle at the true values: are the gradients cleared after each step (the given sgd does it), and does the update subtract lr * grad / batch_size?'),
    'bug_train_optim': (['train_linreg'], 'train_linreg: trains from scratch (no torch.optim, no nn.Linear)',
        None),
    'bug_train_nn_linear': (['train_linreg'], 'train_linreg: trains from scratch (no torch.optim, no nn.Linear)',
        None),
    'bug_train_swapped': (['train_linreg'], 'train_linreg: returns w of shape (d, 1) and b of shape (1,)',
        'swapped outputs: you returned (b, w); return (w, b) in that order'),
    'bug_linreg_elementwise': (['linreg'], 'linreg: computes X @ w + b',
        None),
    'bug_linreg_detached': (['linreg'], 'linreg: lets autograd flow to w and b',
        None),
    # issue 13: ways around the rules, and inputs the contract allows
    'bug_train_constants': (['train_linreg'], 'train_linreg: learns other true weights from the data it is given',
        None),
    'bug_train_optim_at_import': (['train_linreg'], 'train_linreg: trains from scratch (no torch.optim, no nn.Linear)',
        None),
    'bug_train_layer_forward': (['train_linreg'], 'train_linreg: trains from scratch (no torch.optim, no nn.Linear)',
        None),
    'bug_train_f_linear': (['train_linreg'], 'train_linreg: trains from scratch (no torch.optim, no nn.Linear)',
        None),
    'bug_linreg_frozen': (['linreg', 'linreg_grad'], 'linreg_grad: agrees with finite differences of the loss',
        None),
    # issue 16: a default no training result can see
    'bug_train_defaults': (['train_linreg'], DEFAULTS_CHECK, None),
}


# Constructing a torch.optim optimiser imports torch._dynamo in the worker (~5 s): slow.
SLOW = {"bug_train_optim", "bug_train_optim_at_import"}

globals().update(suite(N, set(['linreg', 'linreg_grad', 'normal_equation', 'train_linreg']), BUGS, frozenset(SLOW)))
_graded = graded  # noqa: F821 - set just above


@pytest.mark.slow
def test_rule_breakers_lose_only_the_from_scratch_point():
    for name, used in [("bug_train_optim", "torch.optim.SGD"), ("bug_train_nn_linear", "nn.Linear")]:
        result = _graded(name)
        assert failing_checks(result) == {"train_linreg: trains from scratch (no torch.optim, no nn.Linear)"}
        failed = next(c for c in result.checks if not c.passed)
        assert used in failed.failure.summary


@pytest.mark.slow
def test_ways_around_the_rules_lose_the_from_scratch_point():
    """torch.optim stepped through a method captured at import, a layer's forward called
    directly, F.linear captured at import: all seen at torch's dispatch."""
    for name, used in [("bug_train_optim_at_import", "torch.optim.SGD"), ("bug_train_layer_forward", "nn.Linear"),
                       ("bug_train_f_linear", "nn.Linear")]:
        result = _graded(name)
        assert failing_checks(result) == {"train_linreg: trains from scratch (no torch.optim, no nn.Linear)"}, name
        assert used in next(c for c in result.checks if not c.passed).failure.summary


def test_published_constants_fail_the_hidden_case_and_the_record():
    result = _graded("bug_train_constants")
    assert failing_checks(result) == {"train_linreg: learns other true weights from the data it is given",
                                      "train_linreg: trains from scratch (no torch.optim, no nn.Linear)"}
    by_name = {c.test_name: c for c in result.checks}
    assert by_name["train_linreg: learns other true weights from the data it is given"].hidden
    assert "never called linreg, sgd or backward()" in by_name[
        "train_linreg: trains from scratch (no torch.optim, no nn.Linear)"].failure.summary


@pytest.mark.parametrize("seed", [0, 7, 2**33 + 1])
def test_other_true_weights_come_from_the_seed_and_stay_away_from_the_published(seed):
    check = next(c for c in load_exercise(N).checks if c.name.startswith("learns other"))
    (case,) = check.cases(check.rng(seed))
    w, b = np.array(case.context["w"]), case.context["b"]
    assert np.abs(w - np.array([2, -3.4])).max() > 0.5 and abs(b - 4.2) > 0.5
    assert np.all((np.abs(w) >= 1) & (np.abs(w) <= 4)) and 1 <= abs(b) <= 5


def test_finite_differences_come_from_the_judge_not_the_student_forward():
    """A linreg frozen under no_grad cannot make all-zero gradients agree with finite differences."""
    result = _graded("bug_linreg_frozen")
    failed = {c.test_name: c for c in result.checks}["linreg_grad: agrees with finite differences of the loss"]
    assert not failed.passed and "got 0" in failed.failure.summary


def test_mean_loss_and_dead_bias_keep_their_shapes_point():
    for name in ("bug_train_mean_loss", "bug_train_b_not_updated"):
        assert failing_checks(_graded(name)) == {"train_linreg: recovers w = [2, -3.4] and b = 4.2 within 0.05",
                                                 "train_linreg: learns other true weights from the data it is given"}


def test_finite_difference_failure_names_the_worst_entry():
    result = _graded("bug_grad_sign")
    failed = {c.test_name: c for c in result.checks}["linreg_grad: agrees with finite differences of the loss"]
    assert "disagrees with finite differences of the loss in" in failed.failure.summary
    assert "worst entry (" in failed.failure.summary


def test_broken_linreg_does_not_fail_train_or_grad():
    result = _graded("bug_linreg_elementwise")
    assert failing_functions(result) == {"linreg"}


# -- numpy and torch references agree; the gradient-check helpers ------------------------

import numpy as np  # noqa: E402
import torch  # noqa: E402

import reference.exercise3 as torch_ref  # noqa: E402
import reference.numpy_solutions as np_ref  # noqa: E402
from grader.exercises import gradcheck  # noqa: E402
from reference.probes_linalg import substituted  # noqa: E402


def _inputs(function: str, seeds=range(3)):
    """float64 copies of the arguments of every case of every check of `function`."""
    for check in load_exercise(N).checks:
        if check.function != function:
            continue
        for seed in seeds:
            for case in check.cases(check.rng(seed)):
                specs = case.params.get("args", [])
                yield {s["name"]: case.arrays[s["array"]].astype(np.float64) for s in specs if "array" in s}


def _close(a, b, rtol=1e-10, atol=1e-12):
    a = a.detach().numpy() if isinstance(a, torch.Tensor) else np.asarray(a)
    assert a.shape == np.shape(b) and np.allclose(a, b, rtol=rtol, atol=atol)


def test_numpy_and_torch_references_agree_on_every_case():
    for args in _inputs("linreg"):
        t = {k: torch.tensor(v) for k, v in args.items()}
        _close(torch_ref.linreg(**t), np_ref.linreg(**args))
    count = 0
    for args in _inputs("linreg_grad"):
        w = torch.tensor(args["w"], requires_grad=True)
        b = torch.tensor(args["b"], requires_grad=True)
        X, y = torch.tensor(args["X"]), torch.tensor(args["y"])
        loss = torch_ref.squared_loss(torch_ref.linreg(X, w, b), y).mean()
        autograd = torch.autograd.grad(loss, (w, b))
        for got_ref, got_np, auto in zip(torch_ref.linreg_grad(**args), np_ref.linreg_grad(**args), autograd):
            _close(got_ref, got_np)
            _close(auto, got_np)
        count += 1
    for args in _inputs("normal_equation"):
        for a, b in zip(torch_ref.normal_equation(**args), np_ref.normal_equation(**args)):
            _close(a, b, rtol=1e-8, atol=1e-9)
    assert count >= 10


def test_central_differences_are_exact_enough_on_a_quadratic():
    rng = np.random.default_rng(0)
    A, x = rng.normal(size=(4, 4)), rng.normal(size=(2, 2))
    grad = gradcheck.central_diff(lambda v: float(v.reshape(-1) @ A @ v.reshape(-1)), x)
    assert np.allclose(grad.reshape(-1), (A + A.T) @ x.reshape(-1), rtol=1e-8, atol=1e-9)
    assert x.dtype == np.float64 and grad.shape == x.shape


def test_gradient_failure_names_the_worst_entry():
    reference = np.array([[1.0, 2.0], [3.0, 4.0]])
    got = reference.copy()
    got[1, 0] += 0.5
    got[0, 1] += 0.1
    assert gradcheck.gradient_failure(reference.copy(), reference, "dw", "x") is None
    failure = gradcheck.gradient_failure(got, reference, "dw", "finite differences")
    assert "worst entry (1, 0): got 3.5, expected 3" in failure.summary
    assert "2 of 4 entries" in failure.summary


def test_substituted_restores_the_namespace():
    ns = {"relu": "mine"}
    with substituted(ns, {"relu": abs, "linreg": min}):
        assert ns == {"relu": abs, "linreg": min}
    assert ns == {"relu": "mine"}


# -- the contract's defaults, read from the signature (probe `defaults`) ------------------

from grader.protocol.wire import Message  # noqa: E402
from reference.checks import exercise3 as checks3  # noqa: E402
from reference.probes_linalg import signature_defaults  # noqa: E402


def test_the_defaults_are_read_beside_the_training_run():
    (train,) = next(c for c in load_exercise(N).checks if c.name.startswith("returns w")).cases(np.random.default_rng(0))
    assert train.params["defaults"] == ["lr", "num_epochs", "batch_size"]
    check = next(c for c in load_exercise(N).checks if c.test_name == DEFAULTS_CHECK)
    assert check.probe == "train" and check.needs_result and check.cases(np.random.default_rng(0))[0].params["reuse"]


def test_a_changed_default_loses_only_the_defaults_point():
    result = _graded("bug_train_defaults")
    assert failing_checks(result) == {DEFAULTS_CHECK}
    failed = {c.test_name: c for c in result.checks}[DEFAULTS_CHECK]
    assert failed.failure.summary == ("train_linreg(features, labels) must work with the contract's defaults "
                                      "lr=0.03, num_epochs=3, batch_size=10: num_epochs defaults to 5, expected 3")


def _defaults_verdict(fn):
    """What the probe reads of `fn`'s signature in this process, then the judge's verdict on it
    (None: passed)."""
    (case,) = checks3.defaults_cases(np.random.default_rng(0))
    info = {"signature": signature_defaults(fn, ["lr", "num_epochs", "batch_size"])}
    failure = checks3.keeps_defaults(case, Message({}), Message({"info": info}))
    return info, None if failure is None else failure.summary


class _Hostile:
    def __eq__(self, other):
        raise RuntimeError("compared")

    def __repr__(self):
        raise RuntimeError("printed")


class _Unreadable:
    @property
    def __signature__(self):
        raise RuntimeError("no signature for you")

    def __call__(self, *args):
        return None


def test_defaults_probe_reports_plain_facts_only():
    def ok(features, labels, *, lr: float = 0.03, num_epochs: int = 3, batch_size: int = 10):
        pass

    def kwargs_only(features, labels, **options):
        pass

    assert _defaults_verdict(ok)[1] is None
    assert _defaults_verdict(lambda features, labels, lr=np.float32(0.03), num_epochs=3.0, batch_size=10: 0)[1] is None
    assert _defaults_verdict(kwargs_only)[1] is None  # may take them by name: not judged
    prefix = "train_linreg(features, labels) must work with the contract's defaults lr=0.03, num_epochs=3, batch_size=10: "
    info, summary = _defaults_verdict(lambda features, labels, lr, num_epochs=3: 0)
    assert summary == prefix + "lr has no default, expected 0.03; there is no parameter batch_size, expected batch_size=10"
    info, summary = _defaults_verdict(lambda features, labels, lr=_Hostile(), num_epochs="3", batch_size=float("nan"): 0)
    assert summary == prefix + ("lr defaults to an object, expected 0.03; num_epochs defaults to a str, expected 3; "
                                "batch_size defaults to inf or nan, expected 10")
    assert info["signature"]["defaults"]["lr"] == {"state": "not a number", "kind": "an object"}
    _, summary = _defaults_verdict(lambda features, labels, lr=None, num_epochs=True, batch_size=2**60: 0)
    assert summary == prefix + ("lr defaults to None, expected 0.03; num_epochs defaults to a bool, expected 3; "
                                "batch_size defaults to an object, expected 10")
    info, summary = _defaults_verdict(_Unreadable())
    assert info == {"signature": {"ok": False, "why": "RuntimeError"}}
    assert summary == "could not read the signature of train_linreg (RuntimeError)"


def test_defaults_verdict_reads_a_tampered_answer_safely():
    (case,) = checks3.defaults_cases(np.random.default_rng(0))
    tampered = {"ok": True, "var_keyword": "yes", "defaults": {"lr": {"state": "value", "value": "0.03"},
                                                              "num_epochs": {"state": "not a number", "kind": "x" * 10**4},
                                                              "batch_size": ["value", 10]}}
    failure = checks3.keeps_defaults(case, Message({}), Message({"info": {"signature": tampered}}))
    assert failure.summary.endswith("the default of lr could not be read, expected 0.03; num_epochs defaults to an "
                                    "object, expected 3; the default of batch_size could not be read, expected 10")


def _only_case(check_name: str):
    (case,) = (c for check in load_exercise(N).checks if check.name.startswith(check_name)
               for c in check.cases(check.rng(3)))
    return case


def _train_run(check_name: str, params: dict, env: object) -> tuple[object, bool]:
    """The train probe on a stand-in train_linreg for `check_name`'s case: (the answer, whether
    a torch function mode was on while it ran)."""
    import torch

    from reference.probes_linalg import probe_train

    seen: list[bool] = []

    def train_linreg(features, labels, lr=0.03, num_epochs=3, batch_size=10):
        seen.append(torch._C._is_torch_function_mode_enabled())
        return torch.zeros(2, 1), torch.zeros(1)

    case = _only_case(check_name)
    answer = probe_train({"train_linreg": train_linreg}, "train_linreg", case.arrays, {**case.params, **params}, env)
    return answer, seen == [True]


def test_an_unwatched_run_reports_what_it_learned_and_nothing_of_how():
    """The hidden other-data run is judged on its result alone: no UsageMode at its torch calls."""
    from grader.worker.probes import ProbeEnv

    assert _only_case("learns other").params["watch"] is False
    for watch in (False, True):
        answer, watched = _train_run("learns other", {"watch": watch}, ProbeEnv("cpu"))
        assert ("training" in answer.info) is watch is watched
        assert answer.arrays["out.0"].shape == (2, 1)


def test_the_references_training_is_never_watched():
    """Only the student's habits are judged: the reference worker's run goes without UsageMode."""
    from grader.worker.probes import ProbeEnv

    for reference in (True, False):
        answer, watched = _train_run("returns w of shape", {"remember": False}, ProbeEnv("cpu", reference=reference))
        assert ("training" in answer.info) is watched is not reference
