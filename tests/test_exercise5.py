"""Exercise 5: references, stubs, correct-but-different and buggy submissions."""
from __future__ import annotations

from pathlib import Path

import pytest

from conftest import SUBMISSIONS, failing_checks, failing_functions, grade  # noqa: F401
from exercise_suite import suite
from grader.results import render as report
from grader.exercises.spec import load_exercise

ROOT = Path(__file__).resolve().parent.parent
N = 5
FOLDER = SUBMISSIONS / f"exercise{N}"
FUNCTIONS = set(load_exercise(N).functions)

HOLDS_NEAR = "chain_rule_holds: uses the absolute tolerance 1e-6 near zero"

# name -> (the functions that fail, a check that fails, its golden diagnosis or None)
BUGS = {
    'bug_grads_swapped': (['chain_rule_grads'], 'chain_rule_grads: dy2_dy1 is w2',
        'swapped outputs: you returned (dy1_dw1, dy2_dy1, dy2_dw1); return (dy2_dy1, dy1_dw1, dy2_dw1) in that order'),
    'bug_grads_backward_on_caller': (['chain_rule_grads'], "chain_rule_grads: leaves the caller's tensors unchanged",
        None),
    'bug_grads_no_retain': (['chain_rule_grads'], 'chain_rule_grads: dy2_dw1 is w2 * x',
        None),
    'bug_grads_not_detached': (['chain_rule_grads'], "chain_rule_grads: leaves the caller's tensors unchanged",
        None),
    'bug_holds_tensor': (['chain_rule_holds'], 'chain_rule_holds: returns a Python bool',
        None),
    'bug_holds_default_atol': (['chain_rule_holds'], 'chain_rule_holds: uses the absolute tolerance 1e-6 near zero',
        "near 0 the absolute tolerance decides: torch.allclose's default is atol=1e-8, the exercise asks for atol=1e-6"),
    'bug_holds_sums': (['chain_rule_holds'], 'chain_rule_holds: False for inconsistent triples',
        None),
    'bug_holds_first': (['chain_rule_holds'], 'chain_rule_holds: False for inconsistent triples',
        None),
    'bug_holds_exact': (['chain_rule_holds'], 'chain_rule_holds: True for consistent triples',
        None),
    'bug_manual_len': (['manual_grad'], "manual_grad: matches the reference's autograd under torch.no_grad()",
        'you divided by len(x) = 3 (the number of rows) instead of x.numel() = 12'),
    'bug_manual_no_mean': (['manual_grad'], "manual_grad: matches the reference's autograd under torch.no_grad()",
        'your gradient is 5× the expected one (n = 5): a sum where a mean belongs, or a missing 1/n?'),
    'bug_manual_half': (['manual_grad'], "manual_grad: matches the reference's autograd under torch.no_grad()",
        'your gradient is half the expected one: is there an extra 1/2 (or a missing factor 2)?'),
    'bug_manual_autograd': (['manual_grad'], "manual_grad: matches the reference's autograd under torch.no_grad()",
        None),
}


globals().update(suite(N, set(['chain_rule_grads', 'chain_rule_holds', 'manual_grad']), BUGS, frozenset()))
_graded = graded  # noqa: F821 - set just above


def test_tensor_answer_loses_only_the_type_point():
    assert failing_checks(_graded("bug_holds_tensor")) == {"chain_rule_holds: returns a Python bool"}


def test_default_allclose_loses_only_the_near_zero_point():
    assert failing_checks(_graded("bug_holds_default_atol")) == {HOLDS_NEAR}


def test_caller_requires_grad_change_is_named():
    result = _graded("bug_grads_backward_on_caller")
    failed = {c.test_name: c for c in result.checks}["chain_rule_grads: leaves the caller's tensors unchanged"]
    assert failed.failure.summary == "the caller's `w1` now requires grad"


import numpy as np  # noqa: E402
import torch  # noqa: E402

import reference.exercise5 as torch_ref  # noqa: E402
import reference.numpy_solutions as np_ref  # noqa: E402


def _cases(function: str, seeds=range(3)):
    for check in load_exercise(N).checks:
        if check.function == function:
            for seed in seeds:
                yield from check.cases(check.rng(seed))


def test_numpy_and_torch_references_agree_on_every_case():
    count = 0
    for case in _cases("manual_grad"):
        x = case.arrays["x"].astype(np.float64)
        xt = torch.tensor(x, requires_grad=True)
        (auto,) = torch.autograd.grad((2 * (xt + 1) ** 2).mean(), xt)
        with torch.no_grad():
            got = torch_ref.manual_grad(torch.tensor(x)).numpy()
        assert np.allclose(got, np_ref.manual_grad(x), rtol=1e-12, atol=1e-14)
        assert np.allclose(auto.numpy(), np_ref.manual_grad(x), rtol=1e-12, atol=1e-14)
        count += 1
    assert count >= 12


def test_the_reference_agrees_with_every_designed_triple():
    labels = []
    for case in _cases("chain_rule_holds", range(5)):
        args = [torch.tensor(case.arrays[s["array"]]) for s in case.params["args"]]
        assert torch_ref.chain_rule_holds(*args) is case.context["holds"], case.label
        labels.append(case.context["holds"])
    assert True in labels and False in labels


def test_chain_rule_grads_reference_matches_the_formulas():
    for case in _cases("chain_rule_grads"):
        a = {k: torch.tensor(v, dtype=torch.float64) for k, v in case.arrays.items()}
        for got, want in zip(torch_ref.chain_rule_grads(**a), (a["w2"], a["x"], a["w2"] * a["x"])):
            assert torch.allclose(got, want)


HONEST_HOLDS = {  # correct by the contract: each must agree with every designed triple
    "allclose(prod, c)": lambda a, b, c: bool(torch.allclose(a * b, c, rtol=1e-5, atol=1e-6)),
    "allclose(c, prod)": lambda a, b, c: bool(torch.allclose(c, a * b, rtol=1e-5, atol=1e-6)),
    "isclose().all()": lambda a, b, c: bool(torch.isclose(a * b, c, rtol=1e-5, atol=1e-6).all()),
    "by hand": lambda a, b, c: bool(((a * b - c).abs() <= 1e-6 + 1e-5 * c.abs()).all()),
    "numpy": lambda a, b, c: bool(np.allclose((a * b).numpy(), c.numpy(), rtol=1e-5, atol=1e-6)),
    "float64": lambda a, b, c: bool(torch.allclose(a.double() * b.double(), c.double(), rtol=1e-5, atol=1e-6)),
}
TOLERANCE_SLIPS = {  # rtol or atol doubled or halved: each is caught by the check named
    "rtol 2e-5": ((2e-5, 1e-6), "chain_rule_holds: False for inconsistent triples"),
    "rtol 5e-6": ((5e-6, 1e-6), "chain_rule_holds: True for consistent triples"),
    "atol 2e-6": ((1e-5, 2e-6), HOLDS_NEAR),
}


def test_honest_comparisons_agree_and_tolerance_slips_are_caught_on_every_seed():
    caught = {name: set() for name in TOLERANCE_SLIPS}
    halved_atol_caught = False
    seeds = range(20)
    for check in load_exercise(N).checks:
        if check.function != "chain_rule_holds":
            continue
        for seed in seeds:
            for case in check.cases(check.rng(seed)):
                args = [torch.tensor(case.arrays[s["array"]]) for s in case.params["args"]]
                want = case.context["holds"]
                for name, holds in HONEST_HOLDS.items():
                    assert holds(*args) is want, (name, seed, case.label)
                for name, ((rtol, atol), _) in TOLERANCE_SLIPS.items():
                    if bool(torch.allclose(args[0] * args[1], args[2], rtol=rtol, atol=atol)) is not want:
                        caught[name].add((seed, check.test_name))
                halved_atol_caught |= bool(torch.allclose(args[0] * args[1], args[2], rtol=1e-5, atol=5e-7)) \
                    is not want
    for name, (_, test_name) in TOLERANCE_SLIPS.items():
        assert {s for s, t in caught[name] if t == test_name} == set(seeds), name
    assert not halved_atol_caught  # deliberately: see docs/AUTHORING.md, "Survivors, and why"
