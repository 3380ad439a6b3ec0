"""The distribution: its name, a warning-free wheel, and the Gradescope scripts on a fresh image.

The slow test builds the Gradescope zip and runs its `setup.sh` and `run_autograder` in an
/autograder-like tree under a temporary folder, with a Python whose standard library is
marked externally managed (PEP 668), as on Debian and Ubuntu images.
"""
from __future__ import annotations

import json
import os
import re
import shutil
import stat
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, SUBMISSIONS
from grader.distribution import bundle

NAME = "honest-grader"  # on no package index (checked: docs/DISTRIBUTION.md)
PYENV = Path.home() / ".pyenv" / "versions"


def _project(path: Path) -> dict:
    return tomllib.loads(path.read_text(encoding="utf-8"))["project"]


def test_distribution_names_are_ours() -> None:
    assert _project(ROOT / "pyproject.toml")["name"] == NAME
    student = (ROOT / "packaging" / "student-pyproject.toml").read_text(encoding="utf-8")
    assert f'name = "{NAME}-student"' in student
    bare = re.compile(r"""pip3?\s+install\s+["']?grader(?![\w-])|["']grader(==|\s*@)""")
    for doc in ("README.md", "docs/DISTRIBUTION.md", "docs/CI.md", "docs/DASK.md", "grader/cli/initci.py",
                "grader/templates/github_workflow.yml.j2", "packaging/setup.sh"):
        assert not bare.search((ROOT / doc).read_text(encoding="utf-8")), doc


def _build(staging: Path, out: Path) -> str:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    proc = subprocess.run([sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out),
                           str(staging)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-2000:]
    return proc.stdout + proc.stderr


def test_the_wheel_builds_without_warnings(tmp_path: Path) -> None:
    staging = tmp_path / "src"
    staging.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, staging / name)
    for name in ("grader", "reference"):
        shutil.copytree(ROOT / name, staging / name, ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    log = _build(staging, tmp_path / "dist")
    assert "warning" not in log.lower(), [line for line in log.splitlines() if "warn" in line.lower()]
    [wheel] = (tmp_path / "dist").glob("*.whl")
    assert wheel.name.startswith("honest_grader-")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
        meta = zf.read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "License-Expression: MIT" in meta and f"Name: {NAME}" in meta
    assert "grader/templates/report.html.j2" in names and "grader/data/mnist_sample.npz" in names


# ------------------------------------------------------------------ Gradescope scripts

def _scripts(tmp_path: Path) -> Path:
    """The zip's setup.sh and run_autograder (and wheel) unpacked into ROOT/source."""
    out = bundle.build_gradescope(tmp_path / "autograder.zip", [1], "2.13.0")
    source = tmp_path / "autograder" / "source"
    with zipfile.ZipFile(out) as zf:
        zf.extractall(source)
        for info in zf.infolist():
            (source / info.filename).chmod((info.external_attr >> 16) & 0o777)
    return source


def _env(root: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GRADER_", "GITHUB_"))}
    return {**env, "AUTOGRADER_ROOT": str(root), **extra}


def _externally_managed_python(where: Path) -> Path:
    """A copy of this interpreter's installation whose stdlib is marked externally managed.

    The stdlib is copied, not linked: the grader's workers may read only under the prefix.
    """
    base = Path(sys.base_prefix)
    version = f"python{sys.version_info[0]}.{sys.version_info[1]}"
    stdlib = Path(sysconfig.get_paths(vars={"base": str(base), "installed_base": str(base)})["stdlib"])
    (where / "bin").mkdir(parents=True)
    lib = where / "lib" / version
    shutil.copytree(stdlib, lib, symlinks=True, ignore=shutil.ignore_patterns(
        "site-packages", "test", "__pycache__", "idlelib", "tkinter", "EXTERNALLY-MANAGED"))
    (lib / "site-packages").mkdir()
    (lib / "EXTERNALLY-MANAGED").write_text("[externally-managed]\nError=managed by the system (a test)\n")
    python = where / "bin" / version
    shutil.copy2(Path(sys.base_prefix) / "bin" / version, python)
    return python


def test_setup_stops_on_an_old_python_with_one_line(tmp_path: Path) -> None:
    old = sorted(PYENV.glob("3.9*/bin/python3.9"))
    if not old:
        pytest.skip("no Python 3.9 here")
    source = _scripts(tmp_path)
    proc = subprocess.run(["bash", str(source / "setup.sh")], capture_output=True, text=True, timeout=60,
                          env=_env(tmp_path / "autograder", GRADER_PYTHON=str(old[0])))
    assert proc.returncode == 1 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "needs Python 3.10 or newer" in proc.stderr and "3.9" in proc.stderr
    assert not (tmp_path / "autograder" / "grader-venv").exists()


def test_run_autograder_without_setup_says_so_and_writes_results(tmp_path: Path) -> None:
    source = _scripts(tmp_path)
    root = tmp_path / "autograder"
    proc = subprocess.run([str(source / "run_autograder")], capture_output=True, text=True, timeout=60, env=_env(root))
    assert proc.returncode == 1 and proc.stderr.count("\n") == 1 and "run setup.sh first" in proc.stderr
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["score"] == 0 and "not set up" in data["output"]


@pytest.mark.slow
def test_setup_and_run_autograder_on_an_externally_managed_python(tmp_path: Path) -> None:
    python = _externally_managed_python(tmp_path / "system-python")
    refused = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "--no-deps", "six"],
                             capture_output=True, text=True, timeout=120, env=_env(tmp_path))
    assert refused.returncode != 0 and "externally-managed-environment" in refused.stdout + refused.stderr

    source = _scripts(tmp_path)
    root = tmp_path / "autograder"
    # torch 2.13.0 comes from this machine's local wheels (pip's find-links), the rest from the index.
    env = _env(root, GRADER_PYTHON=str(python), TORCH_INDEX_URL="https://pypi.org/simple")
    proc = subprocess.run(["bash", str(source / "setup.sh")], capture_output=True, text=True, timeout=900, env=env)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert (root / "grader-venv" / "bin" / "python").exists() and "installed in" in proc.stdout

    sub = root / "submission"
    sub.mkdir()
    shutil.copy(SUBMISSIONS / "exercise1" / "bug_broadcast.py", sub / "exercise1.py")
    proc = subprocess.run([str(source / "run_autograder")], capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((root / "results" / "results.json").read_text())
    assert data["max_score"] == 10 and 0 < data["score"] < 10
    assert all(t["name"].split(":")[0] in ("squared_loss", "sgd") for t in data["tests"])


# ------------------------------------------------------------------ the student answer store

def test_input_digest_sees_every_byte_dtype_shape_and_name() -> None:
    import numpy as np

    from grader.judge import answers

    base = {"x": np.arange(6, dtype=np.float32).reshape(2, 3), "y": np.zeros(3, np.int64)}
    digest = answers.input_digest(base)
    assert answers.input_digest({"y": base["y"], "x": base["x"].copy()}) == digest
    changed = base["x"].copy()
    changed.view(np.uint8).reshape(-1)[5] ^= 1
    for other in ({**base, "x": changed}, {**base, "x": base["x"].reshape(3, 2)},
                  {**base, "x": base["x"].astype(np.float64)}, {"x2": base["x"], "y": base["y"]}):
        assert answers.input_digest(other) != digest


def _header_only(case, expected, got):  # noqa: ANN001, ANN202 (verdict shapes, as the checks write them)
    return _info_of(expected).get("x")


def _info_of(msg):  # noqa: ANN001, ANN202
    return msg.header.get("info") or {}


def _via_helper(case, expected, got):  # noqa: ANN001, ANN202
    return _first_array(expected)


def _first_array(msg):  # noqa: ANN001, ANN202
    return next(iter(msg.arrays.values()))


def _by_keyword(case, expected, got):  # noqa: ANN001, ANN202
    return _info_of(msg=expected)


def _tolerant(tol, case, expected, got):  # noqa: ANN001, ANN202
    return expected.header, tol


def _reads_got_only(case, expected, got):  # noqa: ANN001, ANN202
    return got.arrays.get("out"), expected.header


def test_reads_arrays_is_conservative() -> None:
    from functools import partial

    from grader.judge import answers

    assert answers.reads_arrays(_header_only) is False
    assert answers.reads_arrays(_reads_got_only) is False
    assert answers.reads_arrays(_via_helper) is True
    assert answers.reads_arrays(_by_keyword) is True  # not followed: counts as reading
    assert answers.reads_arrays(lambda case, expected, got: expected.arrays) is True
    assert answers.reads_arrays(print) is True  # no source to read
    assert answers.reads_arrays(partial(_tolerant, 1e-3)) is False
    assert answers.reads_arrays(lambda case, expected, got: expected.header) is True  # a lambda: not read


def test_the_student_wheel_builds_without_warnings(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_precompute(root: Path, numbers: list[int], seeds: list[int]) -> None:  # the layout, not the answers
        for n in numbers:
            (root / f"exercise{n}").mkdir()
            for s in seeds:
                (root / f"exercise{n}" / f"seed-{s}.json").write_text("{}")
                (root / f"exercise{n}" / f"seed-{s}.npz").write_bytes(b"")
        (root / "manifest.json").write_text('{"format": 2, "seeds": [], "exercises": {}}')

    monkeypatch.setattr(bundle, "precompute", fake_precompute)
    staging = tmp_path / "student"
    staging.mkdir()
    bundle.stage_student(staging, [1, 6], [7])
    log = _build(staging, tmp_path / "dist")
    assert "warning" not in log.lower(), [line for line in log.splitlines() if "warn" in line.lower()]
    [wheel] = (tmp_path / "dist").glob("*.whl")
    assert wheel.name.startswith("honest_grader_student-")
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
    assert {"reference_data/manifest.json", "reference_data/exercise6/seed-7.npz", "reference_data/exercise1/seed-7.json",
            "grader/templates/report.md.j2", "grader/data/mnist_sample.npz"} <= names


@pytest.mark.slow
def test_the_student_bundle_fits_in_25_mb(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert bundle.main(["student", "--out", str(tmp_path), "--seeds", "101,202,303,404"]) == 0  # the default count
    [wheel] = tmp_path.glob("*.whl")
    size = wheel.stat().st_size
    assert size <= 25_000_000
    assert f"({size / 1e6:.1f} MB)" in capsys.readouterr().out
    with zipfile.ZipFile(wheel) as zf:
        npz = [n for n in zf.namelist() if n.endswith(".npz") and n.startswith("reference_data/")]
        assert len(npz) == 6 * bundle.DEFAULT_SEEDS == 6 * 4
        import io

        import numpy as np

        with np.load(io.BytesIO(zf.read("reference_data/exercise6/seed-101.npz")), allow_pickle=False) as arrays:
            assert arrays.files and all(arrays[k].dtype.kind in "biuf" for k in arrays.files)
            assert not any("_in" in k for k in arrays.files)  # inputs are a digest, not stored
