"""The GPU path: bugs that show on CUDA, and correct code graded with `--device cuda`.

The tests marked `cuda` are skipped on a machine without CUDA (they are not marked `slow`,
so the default `-m 'not slow'` keeps them: on a GPU machine plain `pytest` runs them, and
`pytest -m cuda` runs only them). `bench/gpu_check.sh` runs them on a lent GPU (docs/GPU.md).
On the CPU, the tests below check the same logic: where the build_net probe sees a net put
on the GPU (simulated without CUDA), arguments built on the CPU whatever the grading device,
device advice from the probe's evidence only; the slow ones grade each bug file on the CPU.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import pytest
import torch
from torch import nn

from conftest import ROOT, SUBMISSIONS, failing_checks, failing_functions, grade
from grader.judge import grade as judge
from grader.protocol.wire import Message
from reference import probes_mnist
from grader.worker.probes import ProbeEnv, build_arg
from reference.checks import exercise4 as ex4
from reference.checks import exercise6 as ex6

CUDA = SUBMISSIONS / "cuda"
EX6 = SUBMISSIONS / "exercise6"
SEED = 3
HAS_CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device")

EVALUATE = {c.test_name for c in ex6.EXERCISE.checks if c.function == "evaluate"}
TRAIN_DEVICE = "train_epoch: moves each batch to the net's device"
EVALUATE_DEVICE = "evaluate: moves each batch to the net's device"
BUILD_NET_DEVICE = "build_net: maps a (B, 784) batch to (B, 10) float32 scores"  # also: its net is on the CPU
RELU_DEVICE = "relu: keeps X's dtype and device (float32 and float64)"
RELU_VALUES = "relu: computes max(X, 0)"
# Which checks each bug of tests/submissions/cuda/ loses when graded with --device cuda on a GPU.
CUDA_BUGS: dict[str, set[str]] = {
    "labels_not_moved": {TRAIN_DEVICE},  # the watched labels are moved on the spot: only this check
    "evaluate_cpu_counter": {EVALUATE_DEVICE},  # the watch moves the counter on the spot, and records it
    "build_net_on_gpu": {BUILD_NET_DEVICE},
    "build_net_cuda_call": {BUILD_NET_DEVICE},
    "relu_global_device": {RELU_DEVICE},  # the dtype check's CPU case
}
# ... and with --device cpu on a machine without CUDA: the device simulation catches the same,
# except the two files that branch on torch.cuda.is_available() (they are correct code there).
CPU_BUGS: dict[str, set[str]] = {**CUDA_BUGS, "build_net_on_gpu": set(), "relu_global_device": set()}
# Correct exercise 6 loops: the reference, every correct style of the exercise 6 folder, the CUDA-minded ones.
CORRECT_6 = [ROOT / "reference" / "exercise6.py", *sorted(EX6.glob("correct_*.py")), *sorted(CUDA.glob("correct_*.py"))]
CORRECT_4 = sorted((SUBMISSIONS / "exercise4").glob("ok_*.py"))


def _name(path: Path) -> str:
    return f"{path.parent.name}/{path.stem}"


# --------------------------------------------------------------------------- on a GPU


@pytest.mark.cuda
@needs_cuda
def test_reference_on_cuda_agrees_with_the_cpu_reference() -> None:
    """The reference runs on the CPU in the judge's reference worker, the student on CUDA."""
    result = grade(ROOT / "reference" / "exercise6.py", seed=SEED, device="cuda")
    assert result.device == "cuda"
    assert failing_checks(result) == set() and result.score == result.max_score
    run = result.extras["full_run"]
    assert run["weight_distance"] < ex6.WEIGHT_TOLERANCE
    assert abs(run["accuracy"]["student"] - run["accuracy"]["reference"]) <= ex6.ACCURACY_TOLERANCE
    curve = result.extras["loss_curve"]
    assert len(curve["student"]) == len(curve["reference"]) > 0


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("path", CORRECT_6, ids=_name)
def test_correct_loops_get_full_marks_on_cuda(path: Path) -> None:
    result = grade(path, seed=SEED, device="cuda")
    assert failing_checks(result) == set()
    assert result.extras["full_run"]["weight_distance"] < ex6.WEIGHT_TOLERANCE


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("number", [1, 2, 3, 4, 5])
def test_references_1_to_5_get_full_marks_on_cuda(number: int) -> None:
    result = grade(ROOT / "reference" / f"exercise{number}.py", seed=SEED, device="cuda")
    assert result.device == "cuda" and failing_checks(result) == set()


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("path", CORRECT_4, ids=_name)
def test_correct_relus_get_full_marks_on_cuda(path: Path) -> None:
    """Each correct relu follows X's device, the CPU case's X too."""
    assert failing_checks(grade(path, seed=SEED, device="cuda")) == set()


def _summaries(result: object) -> str:
    return " ".join(c.failure.summary for c in result.checks if not c.passed)  # type: ignore[attr-defined]


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("name", sorted(CUDA_BUGS))
def test_cuda_bugs_lose_their_checks_on_cuda(name: str) -> None:
    result = grade(CUDA / f"{name}.py", seed=SEED, device="cuda")
    assert failing_checks(result) == CUDA_BUGS[name]
    summaries = _summaries(result)
    if name == "labels_not_moved":
        assert "labels" in summaries and "cuda" in summaries
    elif name.startswith("build_net"):
        assert "build_net returned the net with its parameters on cuda" in summaries
    elif name == "relu_global_device":
        assert "relu(X) is on cuda" in summaries and "`X` is on cpu" in summaries
    else:
        assert "a tensor on the CPU reached" in summaries and "Expected all tensors to be on the same device" in summaries


@pytest.mark.cuda
@needs_cuda
def test_a_cpu_counter_is_not_advised_to_move_the_batches() -> None:
    result = grade(CUDA / "evaluate_cpu_counter.py", seed=SEED, device="cuda")
    advice = " ".join(f"{c.failure.diagnosis} {c.failure.hint}" for c in result.checks if not c.passed)
    assert "same device" in _summaries(result)
    assert "each batch" not in advice and "device=" in advice  # neither KNOWN_ERRORS nor DEVICE_HINT


@pytest.mark.cuda
@needs_cuda
def test_relu_with_a_cuda_result_is_caught_under_device_cuda() -> None:
    """Under --device cuda the dtype check's third case still builds X on the CPU."""
    result = grade(CUDA / "relu_global_device.py", seed=SEED, device="cuda")
    assert failing_checks(result) == {RELU_DEVICE}
    failure = next(c for c in result.checks if c.test_name == RELU_DEVICE).failure
    assert "on the CPU" in failure.case


@pytest.mark.cuda
@needs_cuda
def test_net_put_on_the_gpu_is_caught_under_device_cpu() -> None:
    """The probe reads the fresh net's devices before moving it to the grading device; `.cuda()`
    is caught whether the worker sees the GPU (real devices) or not (simulated, see below)."""
    result = grade(CUDA / "build_net_cuda_call.py", seed=SEED, device="cpu")
    assert failing_checks(result) == {BUILD_NET_DEVICE}
    assert "build_net returned the net with its parameters on cuda" in _summaries(result)


def gpu_hidden(isolation: tuple[str, ...] | list[str]) -> bool:
    """Whether a --device cpu worker cannot see the GPU: its private /dev holds no GPU nodes,
    and Landlock lets it open none (the GPU's nodes are let through for --device cuda only)."""
    return bool({"dev-private", "landlock"} & set(isolation))


@pytest.mark.cuda
@needs_cuda
@pytest.mark.parametrize("name", ["relu_global_device", "build_net_on_gpu"])
def test_under_device_cpu_a_bug_behind_is_available_shows_only_where_the_worker_sees_the_gpu(name: str) -> None:
    """Both files choose `cuda` only when torch.cuda.is_available(): with the GPU hidden from the
    worker they are correct code, as on a machine without CUDA; else the bug shows."""
    result = grade(CUDA / f"{name}.py", seed=SEED, device="cpu")
    failing = failing_checks(result)
    if gpu_hidden(result.isolation):
        assert failing == CPU_BUGS[name] == set()
    elif name == "build_net_on_gpu":
        assert failing == {BUILD_NET_DEVICE}
    else:  # relu's result comes back on CUDA for every (CPU) input: its backward fails as well
        assert RELU_DEVICE in failing and RELU_VALUES not in failing and failing_functions(result) == {"relu"}


# --------------------------------------------------------------------------- on the CPU: the same logic


def _seq(**kwargs: object) -> nn.Sequential:
    return nn.Sequential(nn.Linear(784, 200, **kwargs), nn.ReLU(), nn.Linear(200, 10, **kwargs))


class _OwnParameters(nn.Module):
    def __init__(self) -> None:
        super().__init__()
        self.W = nn.Parameter(torch.randn(10, 784, device="cuda") * 0.01)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x @ self.W.T


# build_net -> the device types its parameters are on (as build_net left them)
BUILDS = {
    "plain": (_seq, ["cpu"]),
    "to('cuda')": (lambda: _seq().to("cuda"), ["cuda"]),
    "to(torch.device('cuda', 0))": (lambda: _seq().to(torch.device("cuda", 0)), ["cuda"]),
    "to(0)": (lambda: _seq().to(0), ["cuda"]),
    "cuda()": (lambda: _seq().cuda(), ["cuda"]),
    "device= in each layer": (lambda: _seq(device="cuda"), ["cuda"]),
    "one layer moved": (lambda: nn.Sequential(nn.Linear(784, 200).cuda(), nn.ReLU(), nn.Linear(200, 10)),
                        ["cpu", "cuda"]),
    "moved there and back": (lambda: _seq().cuda().cpu(), ["cpu"]),
    "moved when .is_cuda is False": (lambda: (lambda n: n if next(n.parameters()).is_cuda else n.cuda())(_seq()),
                                     ["cuda"]),
    "to(a tensor on the GPU)": (lambda: _seq().to(torch.zeros(1, device="cuda")), ["cuda"]),
    "own Parameter from a CUDA factory": (_OwnParameters, ["cuda"]),
}


def _net_arrays() -> dict[str, np.ndarray]:
    return ex6.net_cases(np.random.default_rng(0))[0].arrays


@pytest.mark.skipif(HAS_CUDA, reason="with CUDA the probe reads the real devices")
@pytest.mark.parametrize("name", sorted(BUILDS))
def test_the_build_net_probe_sees_where_the_net_was_put_without_cuda(name: str) -> None:
    """Without CUDA a move to the GPU inside build_net is simulated and remembered; the rest
    of the probe runs on the real (CPU) net."""
    build, types = BUILDS[name]
    answer = probes_mnist.probe_build_net({"build_net": build}, "build_net", _net_arrays(), {}, ProbeEnv())
    assert sorted({d.split(":")[0] for d in answer.info["devices"]}) == types
    assert answer.info["fresh"]["device"] == "cpu" and answer.info["fresh"]["shape"] == [5, 10]


def _net_answer(build: object) -> Message:
    answer = probes_mnist.probe_build_net({"build_net": build}, "build_net", _net_arrays(), {}, ProbeEnv())
    return Message({"type": "answer", "info": answer.info}, answer.arrays)


def test_net_output_fails_a_net_whose_parameters_are_not_on_the_cpu() -> None:
    """The verdict reads only the probe's `devices` (here a fake one, as a GPU would report it)."""
    case = ex6.net_cases(np.random.default_rng(0))[0]
    expected = _net_answer(_seq)
    assert ex6.net_output(case, expected, expected) is None
    on_gpu = Message({**expected.header, "info": {**expected.header["info"], "devices": ["cuda:0"]}}, expected.arrays)
    failure = ex6.net_output(case, expected, on_gpu)
    assert failure is not None and "parameters on cuda:0" in failure.summary and "on the CPU" in failure.summary
    assert ex6.net_layers(case, expected, on_gpu) is None and ex6.net_forward(case, expected, on_gpu) is None


def test_an_arg_spec_names_its_device() -> None:
    """`"device": "cpu"` builds the tensor on the CPU whatever the grading device (here `meta`
    stands in for a GPU); without it, on the grading device."""
    arrays = {"X": np.ones((4, 3), np.float32)}
    grading = ProbeEnv("meta")
    assert build_arg({"name": "X", "array": "X"}, arrays, grading).device.type == "meta"
    assert build_arg({"name": "X", "array": "X", "device": "cpu"}, arrays, grading).device.type == "cpu"
    transposed = build_arg({"name": "X", "array": "X", "device": "cpu", "layout": "transposed"}, arrays, grading)
    assert transposed.device.type == "cpu" and not transposed.is_contiguous()


def test_exercise4_dtype_check_has_one_cpu_case_repeating_case_1() -> None:
    """On a CPU grader the CPU case repeats the float32 case (same inputs: the same verdict)."""
    check = next(c for c in ex4.EXERCISE.checks if c.test_name == RELU_DEVICE)
    cases = check.cases(check.rng(SEED))
    built = [build_arg(case.params["args"][0], case.arrays, ProbeEnv("meta")) for case in cases]
    assert [t.device.type for t in built] == ["meta", "meta", "cpu"]
    assert [t.dtype for t in built] == [torch.float32, torch.float64, torch.float32]
    assert np.array_equal(cases[2].arrays["X"], cases[0].arrays["X"]) and "on the CPU" in cases[2].label


def test_a_device_error_gets_a_neutral_diagnosis() -> None:
    """A raised 'same device' error names no culprit: the diagnosis does not guess one."""
    from grader.exercises.spec import load_exercise

    message = "Expected all tensors to be on the same device, but found at least two devices, cuda:0 and cpu!"
    check = next(c for c in load_exercise(6).checks if c.function == "evaluate")  # the course's known errors bound
    from grader.judge import failures

    failure = failures._error_failure("evaluate", {"kind": "raised", "error": {"type": "RuntimeError", "message": message}},
                                      check.known_errors)
    assert failure.diagnosis and "batch" not in failure.diagnosis and "different devices" in failure.diagnosis
    assert not any(c.hint for c in ex6.EXERCISE.checks if c.test_name in (TRAIN_DEVICE, EVALUATE_DEVICE))


def _device_facts(role: str, op: str) -> Message:
    record = {"batch": role, "op": op, "device": "cpu"}
    return Message({"type": "answer", "info": {"device": {"home": "cuda:0", "moved": {"images": 1, "labels": 1},
                                                          "unmoved": [record], "unmoved_count": 1}}})


@pytest.mark.parametrize("role, advice", [("images", ex6.DEVICE_HINT), ("labels", ex6.DEVICE_HINT),
                                          ("tensor", ex6.TENSOR_DEVICE_HINT)])
def test_device_advice_follows_what_the_probe_saw(role: str, advice: str) -> None:
    """The batch advice only when a batch tensor was seen unmoved; a CPU tensor of the code's own
    (a counter: evaluate_cpu_counter.py) is told to be made on the net's device."""
    case = ex6.eval_cases(np.random.default_rng(0))[0]
    failure = ex6.moves_batches(case, Message({}), _device_facts(role, "add_"))
    assert failure is not None and failure.hint == advice
    assert ("each batch" in failure.hint) == (role != "tensor")


@pytest.mark.slow
@pytest.mark.skipif(HAS_CUDA, reason="on a CUDA machine these files behave as on a GPU")
def test_cuda_bugs_without_cuda() -> None:
    """Without CUDA the device simulation catches the bugs that do not branch on
    torch.cuda.is_available() (with the advice that fits), and the two that do are correct code."""
    for name, want in sorted(CPU_BUGS.items()):
        result = grade(CUDA / f"{name}.py", seed=SEED)
        assert result.exercise == (4 if name.startswith("relu") else 6) and failing_checks(result) == want, name
        if name == "evaluate_cpu_counter":
            advice = " ".join(f"{c.failure.diagnosis} {c.failure.hint}" for c in result.checks if not c.passed)
            assert "each batch" not in advice and "device=" in advice
    for path in sorted(CUDA.glob("correct_*.py")):
        assert failing_checks(grade(path, seed=SEED)) == set(), path.name


def _collected(*args: str) -> set[str]:
    """The test functions (parameters dropped) that pytest selects in this file with `args`."""
    proc = subprocess.run([sys.executable, "-m", "pytest", "--collect-only", "-q", "-p", "no:cacheprovider",
                           *args, str(Path(__file__))], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return {line.split("::")[-1].split("[")[0] for line in proc.stdout.splitlines() if "::" in line}


def test_the_default_selection_keeps_the_cuda_tests_and_minus_m_cuda_selects_them() -> None:
    marked = {name for name, fn in globals().items() if name.startswith("test_")
              and any(m.name == "cuda" for m in getattr(fn, "pytestmark", []))}
    assert len(marked) >= 7
    assert marked <= _collected()  # pyproject's addopts (-m 'not slow') does not drop them
    assert _collected("-m", "cuda") == marked


# --------------------------------------------------------------------------- bench/gpu_check.sh

SCRIPT = ROOT / "bench" / "gpu_check.sh"
NO_GPU = not HAS_CUDA and shutil.which("nvidia-smi") is None and not list(Path("/dev").glob("nvidia[0-9]*"))


def _check(out: Path, env: dict[str, str], timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["bash", str(SCRIPT), str(out)], cwd=ROOT, capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **env})


def _wheel(folder: Path) -> Path:
    """A tiny pure-Python wheel of a module `gpu_check_dummy` (no index, no build needed)."""
    path = folder / "gpu_check_dummy-0.1-py3-none-any.whl"
    info = "gpu_check_dummy-0.1.dist-info"
    files = {"gpu_check_dummy/__init__.py": "X = 1\n",
             f"{info}/METADATA": "Metadata-Version: 2.1\nName: gpu-check-dummy\nVersion: 0.1\n",
             f"{info}/WHEEL": "Wheel-Version: 1.0\nGenerator: test\nRoot-Is-Purelib: true\nTag: py3-none-any\n"}
    files[f"{info}/RECORD"] = "".join(f"{name},,\n" for name in files) + f"{info}/RECORD,,\n"
    with zipfile.ZipFile(path, "w") as z:
        for name, text in files.items():
            z.writestr(name, text)
    return path


@pytest.mark.skipif(not NO_GPU, reason="this machine has an NVIDIA GPU")
def test_gpu_check_without_a_gpu_says_so_in_one_line(tmp_path: Path) -> None:
    proc = _check(tmp_path / "out", {"PATH": "/usr/bin:/bin"})
    assert proc.returncode == 0 and proc.stderr == ""
    assert proc.stdout.count("\n") == 1 and "no CUDA on this machine" in proc.stdout
    assert json.loads((tmp_path / "out" / "figures.json").read_text())["cuda"] is False


@pytest.mark.slow
@pytest.mark.skipif(HAS_CUDA, reason="torch sees a CUDA device here")
def test_gpu_check_installs_missing_wheels_then_finds_no_cuda_in_torch(tmp_path: Path) -> None:
    """nvidia-smi is there (a fake), a needed module is missing and comes from the wheels
    folder with pip --no-index, then torch sees no CUDA device: one line about it, exit 0."""
    fake = tmp_path / "bin"
    fake.mkdir()
    (fake / "nvidia-smi").write_text("#!/bin/sh\necho 'GPU 0: fake'\n")
    (fake / "nvidia-smi").chmod(0o755)
    wheels = tmp_path / "wheels"
    wheels.mkdir()
    _wheel(wheels)
    proc = _check(tmp_path / "out", {"PATH": f"{fake}:{os.environ['PATH']}", "GPU_CHECK_NEEDS": "gpu_check_dummy",
                                     "GPU_CHECK_WHEELS": str(wheels)})
    assert proc.returncode == 0, proc.stdout + proc.stderr
    lines = proc.stdout.splitlines()
    assert lines[0] == f"gpu_check: installing 1 wheels from {wheels} (missing: gpu_check_dummy)"
    assert lines[1:] == [f"gpu_check: no CUDA on this machine (torch {torch.__version__} sees no CUDA device): "
                         "nothing to check"]


@pytest.mark.slow
@pytest.mark.skipif(HAS_CUDA, reason="the dry run is for machines without CUDA")
def test_gpu_check_dry_run_runs_every_step_on_the_cpu(tmp_path: Path) -> None:
    out = tmp_path / "out"
    proc = _check(out, {"GPU_CHECK_FORCE_CPU": "1"}, timeout=900)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert sorted(p.name for p in out.iterdir()) == ["figures.json", "gpu_check.log", "gradebook.csv",
                                                     "pytest_cuda.xml"]
    figures = json.loads((out / "figures.json").read_text())
    assert figures["dry_run"] is True and figures["all_steps_ok"] is True
    assert {s["status"] for s in figures["steps"].values()} == {"ok"}
    assert all(row["as_expected"] for row in figures["singles"].values())
    assert figures["batch"]["all_as_expected"] and figures["batch"]["exit"] == 0
    assert figures["pytest"]["counts"]["failed"] == 0 and figures["pytest"]["counts"]["skipped"] >= 7
    assert figures["time"]["runs"]["cpu"] and "cuda" not in figures["time"]["runs"]
