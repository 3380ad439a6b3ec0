"""The GPU path: bugs that only show on CUDA, and correct code graded with `--device cuda`.

The tests marked `cuda` are skipped on a machine without CUDA (they are not marked `slow`,
so the default `-m 'not slow'` keeps them: on a GPU machine plain `pytest` runs them, and
`pytest -m cuda` runs only them). `bench/gpu_check.sh` runs them on a lent GPU (docs/GPU.md).
On the CPU, the slow tests below prove that each CUDA-only bug file is otherwise correct,
and the marker tests prove the selection.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import torch

from conftest import ROOT, SUBMISSIONS, failing_checks, failing_functions, grade
from reference.checks import exercise6 as ex6

CUDA = SUBMISSIONS / "cuda"
EX6 = SUBMISSIONS / "exercise6"
SEED = 3
HAS_CUDA = torch.cuda.is_available()
needs_cuda = pytest.mark.skipif(not HAS_CUDA, reason="no CUDA device")

EVALUATE = {c.test_name for c in ex6.EXERCISE.checks if c.function == "evaluate"}
TRAIN_DEVICE = "train_epoch: moves each batch to the net's device"
RELU_DEVICE = "relu: keeps X's dtype and device (float32 and float64)"
RELU_VALUES = "relu: computes max(X, 0)"
# Which checks each CUDA-only bug loses when graded with --device cuda on a GPU.
CUDA_BUGS: dict[str, set[str]] = {
    "labels_not_moved": {TRAIN_DEVICE},  # the watched labels are moved on the spot: only this check
    "evaluate_cpu_counter": EVALUATE,    # evaluate raises on every case
}
# Correct exercise 6 loops: the reference, every correct style of the exercise 6 folder, the CUDA-minded ones.
CORRECT_6 = [ROOT / "reference" / "exercise6.py", *sorted(EX6.glob("correct_*.py")), *sorted(CUDA.glob("correct_*.py"))]


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
@pytest.mark.parametrize("name", sorted(CUDA_BUGS))
def test_cuda_only_bugs_lose_their_checks_on_cuda(name: str) -> None:
    result = grade(CUDA / f"{name}.py", seed=SEED, device="cuda")
    assert failing_checks(result) == CUDA_BUGS[name]
    summaries = " ".join(c.failure.summary for c in result.checks if not c.passed)
    if name == "labels_not_moved":
        assert "labels" in summaries and "cuda" in summaries
    else:
        assert "Expected all tensors to be on the same device" in summaries


@pytest.mark.cuda
@needs_cuda
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="judge.KNOWN_ERRORS answers every 'Expected all tensors to be on the same device' "
                          "with 'move each batch to the model's device', wrong when the batches were moved")
def test_a_cpu_counter_is_not_advised_to_move_the_batches() -> None:
    result = grade(CUDA / "evaluate_cpu_counter.py", seed=SEED, device="cuda")
    advice = " ".join(f"{c.failure.diagnosis} {c.failure.hint}" for c in result.checks if not c.passed)
    assert "same device" in " ".join(c.failure.summary for c in result.checks if not c.passed)
    assert "each batch" not in advice  # neither KNOWN_ERRORS nor DEVICE_HINT


@pytest.mark.cuda
@needs_cuda
def test_relu_with_a_cuda_result_for_a_cpu_input() -> None:
    """Graded on the CPU on a GPU machine, the CPU inputs come back on CUDA: the device check fails."""
    result = grade(CUDA / "relu_global_device.py", seed=SEED, device="cpu")
    failing = failing_checks(result)
    assert RELU_DEVICE in failing
    assert RELU_VALUES not in failing and failing_functions(result) == {"relu"}  # mlp uses a trusted relu
    summary = next(c for c in result.checks if c.test_name == RELU_DEVICE).failure.summary
    assert "cuda" in summary and "cpu" in summary


@pytest.mark.cuda
@needs_cuda
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="with --device cuda every relu input is built on CUDA, so a CPU input is never tried")
def test_relu_with_a_cuda_result_is_caught_under_device_cuda() -> None:
    assert RELU_DEVICE in failing_checks(grade(CUDA / "relu_global_device.py", seed=SEED, device="cuda"))


@pytest.mark.cuda
@needs_cuda
@pytest.mark.xfail(strict=True, raises=AssertionError,
                   reason="probe_build_net moves build_net()'s net to the grading device before describing it, "
                          "so the device it was built on is never seen")
@pytest.mark.parametrize("device", ["cuda", "cpu"])
def test_net_built_on_the_gpu_is_caught(device: str) -> None:
    assert failing_functions(grade(CUDA / "build_net_on_gpu.py", seed=SEED, device=device)) == {"build_net"}


# --------------------------------------------------------------------------- on the CPU


@pytest.mark.slow
@pytest.mark.skipif(HAS_CUDA, reason="these bugs show on a CUDA machine")
def test_cuda_only_bugs_are_correct_code_without_cuda() -> None:
    """Each CUDA-only bug file is otherwise correct: without CUDA it gets full marks, except the
    unmoved labels, which the grader's device watch catches on the CPU too."""
    for name, exercise in (("relu_global_device", 4), ("evaluate_cpu_counter", 6), ("build_net_on_gpu", 6)):
        result = grade(CUDA / f"{name}.py", seed=SEED)
        assert result.exercise == exercise and failing_checks(result) == set(), name
    assert failing_checks(grade(CUDA / "labels_not_moved.py", seed=SEED)) == {TRAIN_DEVICE}
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
