"""Exercise 6 (the MNIST loop): whole gradings, probes in-process, and verdicts on made-up answers.

A grading of exercise 6 trains twice for 4 epochs (the full run and its timing) in the
student's worker and in the reference's: about 4-5 s here. The default run grades a handful
of files; the many-seed and every-variant gradings are marked slow.
"""
from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from conftest import SUBMISSIONS, failing_checks, grade
from reference import probes_mnist as pm
from grader.worker.probes import ProbeEnv
from grader.exercises.spec import Case
from grader.protocol.wire import Message
from reference.checks import exercise6 as ex6

ROOT = Path(__file__).resolve().parent.parent
REFERENCE = ROOT / "reference" / "exercise6.py"
STUB = ROOT / "exercises" / "exercise6.py"
SUBS = SUBMISSIONS / "exercise6"
ALL = {c.test_name for c in ex6.EXERCISE.checks}

STEPS = "train_epoch: takes the reference's steps"
FULL_RUN = "train_epoch: trains to the reference's weights and held-out accuracy"
BUGS: dict[str, set[str]] = {
    "no_zero_grad": {STEPS, FULL_RUN},
    "zero_grad_after_step": {STEPS},
    "losses_tensors": {"train_epoch: returns each batch's loss as a Python float"},
    "evaluate_percent": {"evaluate: returns the exact fraction of correct examples"},
    "evaluate_batch_mean": {"evaluate: returns the exact fraction of correct examples"},
    "hidden_256": {"build_net: has the layers Linear(784, 200) and Linear(200, 10)",
                   "build_net: computes Linear -> ReLU -> Linear"},
    "transform_unnormalised": {"transform: scales a numpy uint8 image to [-1, 1]",
                               "transform: scales a uint8 tensor to [-1, 1]"},
    "sgd_rebind": {"sgd_update: moves each parameter by -lr * grad", "sgd_update: updates the caller's tensors in place"},
    "no_to_device": {"train_epoch: moves each batch to the net's device", "evaluate: moves each batch to the net's device"},
    # issue 13: the device simulation, and the contract's update path
    **{name: {"train_epoch: moves each batch to the net's device", "evaluate: moves each batch to the net's device"}
       for name in ("dev_from_data", "dev_global_cpu", "dev_global_is_available", "dev_to_discarded",
                    "dev_as_subclass")},
    "dev_labels_unmoved": {"evaluate: moves each batch to the net's device"},
    "dev_numpy_no_cpu": {"evaluate: moves each batch to the net's device"},
    "dev_train_labels_unmoved": {"train_epoch: moves each batch to the net's device"},
    "optim_sgd": {STEPS},
    # issue 13.4: inputs the contract allows (a non-contiguous image, a batch of 1)
    "transform_view": {"transform: scales a numpy uint8 image to [-1, 1]",
                       "transform: scales a uint8 tensor to [-1, 1]"},
    "batch1_squeeze": {STEPS, "train_epoch: returns each batch's loss as a Python float",
                       "train_epoch: moves each batch to the net's device",
                       "evaluate: returns the exact fraction of correct examples",
                       "evaluate: runs without tracking gradients", "evaluate: moves each batch to the net's device"},
}
DIAGNOSES = {
    "no_zero_grad": "leftover gradients",
    "zero_grad_after_step": "before loss.backward(), not after the update",
    "evaluate_percent": "percent",
    "evaluate_batch_mean": "mean of the batches' accuracies",
    "hidden_256": "256 units",
    "transform_unnormalised": "[0, 1]",
    "sgd_rebind": "rebinds a local name",
    "dev_labels_unmoved": "the labels of a batch reached `__eq__`",
    "dev_numpy_no_cpu": "`.numpy()` without `.cpu()`",
    "dev_train_labels_unmoved": "the labels of a batch reached `cross_entropy`",
    "dev_as_subclass": "reached `net (Linear)` without being moved",
    "optim_sgd": "torch.optim.SGD",
}
CORRECT = ("correct_grad_none", "correct_numpy_module", "correct_compact", "correct_dev_pred_cpu", "correct_dev_item",
           "correct_dev_numpy", "correct_dev_from_output", "correct_dev_global_from_net", "correct_dev_is_cuda")


def test_every_check_is_exercised_by_some_bug() -> None:
    covered = set().union(*BUGS.values())
    assert {STEPS, FULL_RUN} <= covered and len(covered) >= 12


# --------------------------------------------------------------------------- whole gradings


def test_reference_full_marks_and_loss_curve() -> None:
    result = grade(REFERENCE, seed=11)
    assert [c.test_name for c in result.checks if not c.passed] == []
    assert result.score == result.max_score == ex6.EXERCISE.max_score
    curve = result.extras["loss_curve"]
    batches = curve["batches_per_epoch"]
    assert batches == math.ceil(4000 / ex6.BATCH_SIZE)
    assert len(curve["student"]) == len(curve["reference"]) == ex6.EPOCHS * batches
    assert curve["student"] == curve["reference"]  # the same code from the same weights, on the CPU
    assert np.mean(curve["student"][-batches:]) < np.mean(curve["student"][:batches])  # it learns
    run = result.extras["full_run"]
    assert run["accuracy"]["student"] == run["accuracy"]["reference"] > 0.6
    assert run["weight_distance"] == 0.0
    assert run["seconds"]["student"] > 0 and run["seconds"]["reference"] > 0


def test_stub_scores_zero() -> None:
    result = grade(STUB, seed=11)
    assert result.score == 0 and failing_checks(result) == ALL
    assert all("not implemented" in c.failure.summary for c in result.checks)
    assert result.extras["loss_curve"]["student"] == []


def test_predictions_moved_back_to_the_cpu_get_full_marks() -> None:
    """issue 13: `(net(X.to(device)).argmax(1).cpu() == y).sum()` runs on a GPU."""
    result = grade(SUBS / "correct_dev_pred_cpu.py", seed=12)
    assert failing_checks(result) == set()


@pytest.mark.slow  # constructing a torch.optim optimiser imports torch._dynamo (~5 s)
def test_torch_optim_loses_the_steps_check() -> None:
    result = grade(SUBS / "optim_sgd.py", seed=12)
    assert failing_checks(result) == BUGS["optim_sgd"]


def test_missing_to_device_loses_only_the_device_checks() -> None:
    result = grade(SUBS / "no_to_device.py", seed=12)
    assert failing_checks(result) == BUGS["no_to_device"]
    message = next(c for c in result.checks if not c.passed).failure.summary
    assert "without being moved to the net's device (cpu)" in message


@pytest.mark.slow
def test_buggy_steps_lose_steps_and_full_run() -> None:
    result = grade(SUBS / "no_zero_grad.py", seed=13)
    assert failing_checks(result) == BUGS["no_zero_grad"]
    run = result.extras["full_run"]
    assert run["weight_distance"] is None or run["weight_distance"] > 1


@pytest.mark.slow
@pytest.mark.parametrize("seed", [0, 1, 2, 2**40 + 3])
def test_reference_and_stub_under_seeds(seed: int) -> None:
    assert grade(REFERENCE, seed=seed).passed
    assert grade(STUB, seed=seed).score == 0


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(BUGS))
def test_each_bug_loses_exactly_its_checks(name: str) -> None:
    result = grade(SUBS / f"{name}.py", seed=21)
    assert failing_checks(result) == BUGS[name]
    if name in DIAGNOSES:
        texts = [f"{c.failure.summary} {c.failure.diagnosis}" for c in result.checks if not c.passed]
        assert any(DIAGNOSES[name] in t for t in texts), texts


@pytest.mark.slow
@pytest.mark.parametrize("seed", [4, 5])
@pytest.mark.parametrize("name", CORRECT)
def test_correct_styles_get_full_marks(name: str, seed: int) -> None:
    result = grade(SUBS / f"{name}.py", seed=seed)
    assert failing_checks(result) == set()
    assert result.extras["full_run"]["weight_distance"] < ex6.WEIGHT_TOLERANCE / 2


@pytest.mark.cuda
def test_cuda_reference_and_missing_to_device() -> None:
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    assert grade(REFERENCE, seed=3, device="cuda").passed
    result = grade(SUBS / "no_to_device.py", seed=3, device="cuda")
    assert failing_checks(result) == BUGS["no_to_device"]
    summary = next(c for c in result.checks if not c.passed).failure.summary
    assert "cuda" in summary and "Expected all tensors to be on the same device" in summary


# --------------------------------------------------------------------------- watched devices


def _batch(n: int = 4) -> tuple[torch.Tensor, torch.Tensor]:
    (x, y), = pm.batches(np.random.default_rng(0).normal(size=(n, 784)).astype(np.float32),
                         np.arange(n) % 10, [n])
    return x, y


def _net() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(784, 20), nn.ReLU(), nn.Linear(20, 10))


def _watched(body, net: nn.Module | None = None, home: str = "cpu"):
    """Run body(net, x, y) on one tracked batch; (watch, result)."""
    net = net or _net()
    x, y = _batch()
    with pm.watching(torch.device(home), net) as watch:
        watch.track([(x, y)])
        out = body(net, x, y)
    return watch, out


def _dev(net: nn.Module) -> torch.device:
    return next(net.parameters()).device


MOVES = {
    "to(device)": lambda x, d: x.to(d),
    "to(device=..., non_blocking)": lambda x, d: x.to(device=d, non_blocking=True),
    "view then to": lambda x, d: x.view(-1, 784).to(d),
    "to(other tensor)": lambda x, d: x.to(torch.zeros(1, device=d)),
    "to(device, dtype)": lambda x, d: x.to(d, torch.float32),
    "cuda() when the net is on a GPU": lambda x, d: x.cuda() if d.type == "cuda" else x,
    "to(str(device))": lambda x, d: x.to(str(d)),
}


@pytest.mark.parametrize("style", sorted(MOVES))
def test_moves_to_the_nets_device_are_seen(style: str) -> None:
    watch, _ = _watched(lambda net, x, y: net(MOVES[style](x, _dev(net))))
    assert watch.unmoved_count == 0 and watch.moved["images"] == 1


def test_on_a_cpu_grader_the_net_is_shown_on_a_gpu() -> None:
    def body(net, x, y):
        p = next(net.parameters())
        return p.device, p.is_cuda, p.get_device(), x.device, x.to(p.device).device, net(x.to(p.device)).device

    _, out = _watched(body)
    gpu = torch.device("cuda", 0)
    assert out == (gpu, True, 0, torch.device("cpu"), gpu, gpu)


# Every way of moving (or not moving) a batch in evaluate: True when it runs on a real GPU.
# Checked on a CUDA machine by `test_device_patterns_agree_with_a_real_gpu`.
def _count(scores, labels):
    return (scores.argmax(1) == labels).sum().item()


PATTERNS = {
    "labels to the net's device": (True, lambda net, x, y: _count(net(x.to(_dev(net))), y.to(_dev(net)))),
    "predictions back to the CPU": (True, lambda net, x, y: (net(x.to(_dev(net))).argmax(1).cpu() == y).sum().item()),
    "predictions .to('cpu')": (True, lambda net, x, y: (net(x.to(_dev(net))).argmax(1).to("cpu") == y).sum().item()),
    ".item() before comparing": (True, lambda net, x, y: sum(
        int(net(x.to(_dev(net))).argmax(1)[i].item() == y[i].item()) for i in range(len(y)))),
    ".numpy() after .cpu()": (True, lambda net, x, y: int(
        (net(x.to(_dev(net))).argmax(1).cpu().numpy() == y.numpy()).sum())),
    "labels to the output's device": (True, lambda net, x, y: (lambda s: _count(s, y.to(s.device)))(
        net(x.to(_dev(net))))),
    "a CPU scalar counter": (True, lambda net, x, y: (torch.tensor(0) + (
        net(x.to(_dev(net))).argmax(1) == y.to(_dev(net))).sum()).item()),
    "a counter made on the net's device": (True, lambda net, x, y: (torch.zeros((), device=_dev(net)) + (
        net(x.to(_dev(net))).argmax(1) == y.to(_dev(net))).sum()).item()),
    "index the output with CPU indices": (True, lambda net, x, y: net(x.to(_dev(net)))[torch.arange(len(y)), y]
                                          .sum().item()),
    "images not moved": (False, lambda net, x, y: _count(net(x), y)),
    "labels not moved": (False, lambda net, x, y: _count(net(x.to(_dev(net))), y)),
    "device taken from the data": (False, lambda net, x, y: _count(net(x.to(x.device)), y.to(x.device))),
    "device fixed to the CPU": (False, lambda net, x, y: _count(net(x.to("cpu")), y.to("cpu"))),
    ".cpu() of the images": (False, lambda net, x, y: _count(net(x.cpu()), y.cpu())),
    ".to() result thrown away": (False, lambda net, x, y: (x.to(_dev(net)), _count(net(x), y.to(_dev(net))))[1]),
    "as_subclass instead of a move": (False, lambda net, x, y: _count(net(x.as_subclass(torch.Tensor)),
                                                                    y.to(_dev(net)))),
    ".numpy() without .cpu()": (False, lambda net, x, y: int(
        (net(x.to(_dev(net))).argmax(1).numpy() == y.numpy()).sum())),
    "a CPU vector meets the output": (False, lambda net, x, y: (torch.zeros(10) + net(x.to(_dev(net)))).sum().item()),
    "labels meet the loss unmoved": (False, lambda net, x, y: nn.functional.cross_entropy(
        net(x.to(_dev(net))), y).item()),
}


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_device_patterns_are_flagged_exactly_when_a_gpu_would_fail(name: str) -> None:
    runs, body = PATTERNS[name]
    watch, out = _watched(body)
    assert (watch.unmoved_count == 0) is runs, watch.unmoved
    plain = body(_net(), *_batch())  # the same code unwatched gives the same value
    assert out == pytest.approx(plain)


def test_a_fault_names_the_tensor_and_the_operation() -> None:
    watch, _ = _watched(PATTERNS["labels not moved"][1])
    assert watch.unmoved[0] == {"batch": "labels", "op": "__eq__", "device": "cpu"}
    watch, _ = _watched(PATTERNS["images not moved"][1])
    assert watch.unmoved[0]["batch"] == "images" and watch.unmoved[0]["op"].startswith("net")
    watch, _ = _watched(PATTERNS[".numpy() without .cpu()"][1])
    assert watch.unmoved[0]["op"] == "numpy"


@pytest.mark.cuda
@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_device_patterns_agree_with_a_real_gpu(name: str) -> None:
    """Ground truth for PATTERNS: the net really on the GPU, the batch on the CPU, no watch;
    and watched on the GPU, the run completes and is flagged exactly when it raised."""
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    runs, body = PATTERNS[name]
    x, y = _batch()
    try:
        body(_net().cuda(), x, y)
        ran = True
    except (RuntimeError, TypeError):
        ran = False
    assert ran is runs
    watch, _ = _watched(body, _net().cuda(), home="cuda")
    assert (watch.unmoved_count == 0) is runs, watch.unmoved


def test_batches_are_plain_tensors_and_untracked_outside_a_watch() -> None:
    x, _ = _batch()
    assert type(x) is torch.Tensor and x.device.type == "cpu"


def test_contract_sgd_update_is_swapped_in_and_restored() -> None:
    original = object()
    ns = {"sgd_update": original}
    with pm.contract_update_in(ns, pm.UpdateLog()):
        assert ns["sgd_update"] is not original
    assert ns["sgd_update"] is original
    empty: dict = {}
    with pm.contract_update_in(empty, pm.UpdateLog()):
        pass
    assert "sgd_update" not in empty


def test_steps_probe_grades_train_epoch_with_the_contract_update() -> None:
    """A broken sgd_update in the submission does not change what train_epoch is judged on."""
    case = ex6.step_cases(np.random.default_rng(0))[0]
    ns: dict = {}
    exec(REFERENCE.read_text(), ns)
    good = pm.probe_steps(ns, "train_epoch", case.arrays, case.params, ProbeEnv())
    ns["sgd_update"] = lambda parameters, lr: None
    again = pm.probe_steps(ns, "train_epoch", case.arrays, case.params, ProbeEnv())
    for name in ex6.PARAMS:
        np.testing.assert_array_equal(good.arrays["param." + name], again.arrays["param." + name])
    assert good.info["updates"] == len(case.params["sizes"])


def test_build_net_structure_is_data() -> None:
    s = pm.structure(nn.Sequential(nn.Flatten(), nn.Linear(784, 7), nn.Tanh()))
    assert s["module"] and s["type"] == "Sequential"
    assert [layer["type"] for layer in s["layers"]] == ["Flatten", "Linear", "Tanh"]
    assert s["parameters"] == [[7, 784], [7]]
    assert pm.structure(lambda x: x) == {"module": False, "type": "function"}


# --------------------------------------------------------------------------- verdicts on made-up answers


def _msg(info: dict, arrays: dict | None = None, **header) -> Message:
    return Message({"type": "answer", "info": info, **header}, arrays or {})


@pytest.fixture(scope="module")
def eval_case() -> Case:
    return ex6.eval_cases(np.random.default_rng(5))[0]


def test_eval_cases_separate_exact_fraction_from_batch_mean(eval_case: Case) -> None:
    c = eval_case.context
    assert 0 < c["exact"] < 1 and abs(c["exact"] - c["batch_mean"]) > 0.02
    # the judge's own forward pass predicts the labels it planted
    weights = {n: eval_case.arrays[n] for n in ex6.PARAMS}
    predicted = ex6.logits(weights, eval_case.arrays["images"]).argmax(1)
    assert (predicted == eval_case.arrays["labels"]).sum() == c["correct"]


@pytest.mark.parametrize(("value", "fragment"), [
    (lambda c: 100 * c["exact"], "percent"),
    (lambda c: c["batch_mean"], "mean of the batches"),
    (lambda c: float(c["correct"]), "number of correct"),
])
def test_exact_fraction_diagnoses(eval_case: Case, value, fragment: str) -> None:
    c = eval_case.context
    expected = _msg({"out": {"kind": "float", "value": c["exact"]}})
    failure = ex6.exact_fraction(eval_case, expected, _msg({"out": {"kind": "float", "value": value(c)}}))
    assert failure is not None and fragment in failure.diagnosis
    assert ex6.exact_fraction(eval_case, expected, expected) is None
    tensor = _msg({"out": {"kind": "tensor", "dtype": "float32", "shape": []}})
    assert "torch.Tensor" in ex6.exact_fraction(eval_case, expected, tensor).summary


def test_no_grad_verdict() -> None:
    assert ex6.no_grad_inside(None, None, _msg({"grad_modes": [False, False]})) is None
    assert "1 of 2" in ex6.no_grad_inside(None, None, _msg({"grad_modes": [False, True]})).summary
    assert ex6.no_grad_inside(None, None, _msg({"grad_modes": []})) is not None


def test_losses_verdict_accepts_floats_only() -> None:
    case = Case("", {}, {"sizes": [3, 2]})
    floats = {"kind": "list", "length": 2, "items": [{"kind": "float", "value": 2.3}, {"kind": "numpy scalar",
                                                                                       "dtype": "float64",
                                                                                       "value": 2.1}]}
    assert ex6.losses_are_floats(case, None, _msg({"out": floats})) is None
    short = dict(floats, length=1, items=floats["items"][:1])
    assert "1 losses for 2 batches" in ex6.losses_are_floats(case, None, _msg({"out": short})).summary
    f32 = dict(floats, items=[floats["items"][0], {"kind": "numpy scalar", "dtype": "float32", "value": 2.0}])
    assert ex6.losses_are_floats(case, None, _msg({"out": f32})) is not None
    nan = dict(floats, items=[{"kind": "float", "value": float("nan")}] * 2)
    assert "finite" in ex6.losses_are_floats(case, None, _msg({"out": nan})).summary


def _run_answer(weights: dict[str, np.ndarray], **info) -> Message:
    return _msg(info, {"param." + n: v for n, v in weights.items()})


def test_full_run_verdict_and_budget() -> None:
    rng = np.random.default_rng(0)
    case = Case("", ex6.init_weights(rng), {})
    start = {n: case.arrays[n] for n in ex6.PARAMS}
    end = {n: v + rng.normal(0, 0.01, v.shape).astype(np.float32) for n, v in start.items()}
    expected = _run_answer(end, seconds=1.0)
    assert ex6.full_run_matches(case, expected, _run_answer(end)) is None
    halfway = {n: (start[n] + end[n]) / 2 for n in ex6.PARAMS}
    failure = ex6.full_run_matches(case, expected, _run_answer(halfway))
    assert failure is not None and "0.5 x" in failure.summary
    broken = dict(end, W2=np.full_like(end["W2"], np.nan))
    assert "NaN" in ex6.full_run_matches(case, expected, _run_answer(broken)).summary
    assert "could not read" in ex6.full_run_matches(case, expected, _msg({})).summary
    assert ex6.within_budget(case, expected, _msg({}, judge_seconds=3.0)) is None
    assert "took 40.0 s" in ex6.within_budget(case, expected, _msg({}, judge_seconds=40.0)).summary
    assert ex6.within_budget(case, expected, _msg({})) is not None  # not timed: no pass


def test_accuracy_is_computed_by_the_judge() -> None:
    weights = ex6.init_weights(np.random.default_rng(1))
    acc = ex6.accuracy(weights)
    assert 0 <= acc <= 1
    net = pm.contract_net(weights, torch.device("cpu"))
    x = torch.from_numpy(ex6.scaled(ex6.sample().test_images))
    with torch.no_grad():
        torch_acc = (net(x).argmax(1).numpy() == ex6.sample().test_labels).mean()
    assert abs(acc - torch_acc) <= 0.002  # float64 vs float32: at most a near-tie or two
