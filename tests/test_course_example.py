"""The second course (examples/softmax), graded end to end with --course, as CI does.

Every run is a fresh `grade` process: the warm parent preloads the course's probe modules,
so a course is chosen before anything starts (never switched inside one process). Single
file, notebook, batch, the student bundle and the Gradescope bundle; and a hostile
submission of that course that tries to read its answer key.
"""
from __future__ import annotations

import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT
from venv_helpers import make_venv, pip_install, venv_env

COURSE = ROOT / "examples" / "softmax"
CORRECT = COURSE / "submissions" / "correct"
BUGGY = COURSE / "submissions" / "buggy"
HOSTILE = COURSE / "submissions" / "hostile"

# sample -> the checks it must fail (by name); the correct ones fail none
EXPECTED_FAILURES = {
    CORRECT / "exercise1_stable.py": set(),
    CORRECT / "exercise2_logsumexp.py": set(),
    BUGGY / "exercise1_naive.py": {"softmax: is stable for large logits"},
    BUGGY / "exercise1_columns.py": {"softmax: matches the reference", "softmax: is stable for large logits",
                                     "softmax: matches the reference on unseen inputs"},
    BUGGY / "exercise2_sum.py": {"cross_entropy: matches the reference", "cross_entropy: is stable for large logits",
                                 "cross_entropy: lets autograd flow to the logits"},
}


def env(**extra: str) -> dict[str, str]:
    base = {k: v for k, v in os.environ.items() if not k.startswith(("GRADER_", "GITHUB_"))}
    return {**base, "PYTHONPATH": str(ROOT), **extra}


def grade(*args: str | Path, extra_env: dict[str, str] | None = None,
          timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "grader", *map(str, args)], capture_output=True, text=True,
                          env=env(**(extra_env or {})), timeout=timeout, cwd=ROOT)


def results(path: Path) -> dict:
    return json.loads(path.read_text())


def failed(data: dict) -> set[str]:
    return {t["name"] for t in data["tests"] if t["status"] == "failed"}


@pytest.mark.parametrize("sample", sorted(EXPECTED_FAILURES), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_samples_graded_with_course(sample: Path, tmp_path: Path) -> None:
    out = tmp_path / "results.json"
    proc = grade("--course", COURSE, sample, "--seed", "5", "--json", out)
    want = EXPECTED_FAILURES[sample]
    assert proc.returncode == (1 if want else 0), proc.stderr
    data = results(out)
    assert failed(data) == want
    assert data["max_score"] == (8 if "exercise1" in sample.name else 7)


@pytest.mark.parametrize("n", [1, 2])
def test_the_stubs_grade_as_not_implemented(n: int, tmp_path: Path) -> None:
    out = tmp_path / "stub.json"
    proc = grade("--course", COURSE, COURSE / "exercises" / f"exercise{n}.py", "--seed", "1", "--json", out)
    assert proc.returncode == 1
    data = results(out)
    assert data["score"] == 0 and all("not implemented yet" in t["output"] for t in data["tests"])


def test_verdicts_do_not_depend_on_the_seed_and_env_selects_the_course(tmp_path: Path) -> None:
    sample = BUGGY / "exercise1_naive.py"
    for seed in ("11", "12345"):
        out = tmp_path / f"{seed}.json"
        proc = grade(sample, "--seed", seed, "--json", out, extra_env={"GRADER_COURSE": str(COURSE)})
        assert proc.returncode == 1, proc.stderr
        assert failed(results(out)) == EXPECTED_FAILURES[sample]


def test_report_has_the_course_section_and_its_known_error(tmp_path: Path) -> None:
    md = tmp_path / "r.md"
    proc = grade("--course", COURSE, BUGGY / "exercise1_naive.py", "--seed", "2", "--report", f"md={md}")
    assert proc.returncode == 1
    assert "### Numerical stability" in md.read_text()  # examples/softmax/templates/stability.md.j2
    wrong_dim = tmp_path / "exercise1.py"
    wrong_dim.write_text("import torch\n\ndef softmax(X):\n    return torch.softmax(X, dim=2)\n")
    out = tmp_path / "dim.json"
    grade("--course", COURSE, wrong_dim, "--seed", "2", "--json", out)
    text = json.dumps(results(out))
    assert "softmax works along the last dimension" in text  # the course's KnownError for softmax
    md_builtin = tmp_path / "b.md"
    grade(ROOT / "reference" / "exercise1.py", "--seed", "2", "--report", f"md={md_builtin}")
    assert "Numerical stability" not in md_builtin.read_text()  # another course's section stays out


def test_notebook_of_the_course(tmp_path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_markdown_cell("# Cross-entropy"),
                nbformat.v4.new_code_cell("# exercise: 2\nimport torch"),
                nbformat.v4.new_code_cell((CORRECT / "exercise2_logsumexp.py").read_text())]
    path = tmp_path / "my_notebook.ipynb"
    nbformat.write(nb, path)
    out = tmp_path / "nb.json"
    proc = grade("--course", COURSE, path, "--seed", "3", "--json", out)
    assert proc.returncode == 0, proc.stderr
    assert failed(results(out)) == set() and results(out)["score"] == 7


def test_batch_of_the_course(tmp_path: Path) -> None:
    root, out = tmp_path / "class", tmp_path / "out"
    for student, files in {"alice": [CORRECT / "exercise1_stable.py", CORRECT / "exercise2_logsumexp.py"],
                           "bob": [BUGGY / "exercise1_naive.py", BUGGY / "exercise2_sum.py"]}.items():
        (root / student).mkdir(parents=True)
        for f in files:
            shutil.copy(f, root / student / f"{f.name.split('_')[0]}.py")
    proc = grade("batch", root, "--out", out, "--seed", "4", "--course", COURSE, "--jobs", "2")
    assert proc.returncode == 0, proc.stderr
    with open(out / "gradebook.csv", newline="") as fh:
        rows = {(r["student"], r["exercise"]): (float(r["score"]), float(r["max_score"])) for r in csv.DictReader(fh)}
    assert rows[("alice", "exercise1")] == (8, 8) and rows[("alice", "exercise2")] == (7, 7)
    assert rows[("bob", "exercise1")] == (6, 8) and rows[("bob", "exercise2")] == (0, 7)
    again = grade("batch", root, "--out", out, "--course", COURSE)
    assert again.returncode == 0 and "(4 already graded)" in again.stderr  # same course files: reused


def test_a_bad_course_is_one_line_and_exit_2(tmp_path: Path) -> None:
    out = tmp_path / "r.json"
    proc = grade("--course", tmp_path / "nowhere", CORRECT / "exercise1_stable.py", "--json", out)
    assert proc.returncode == 2 and proc.stderr.count("\n") == 1 and "is not a course folder" in proc.stderr
    assert results(out)["score"] == 0
    proc = grade("--course", COURSE, ROOT / "reference" / "exercise3.py")
    assert proc.returncode == 2 and "there is no exercise 3 in course softmax" in proc.stderr


# ------------------------------------------------------------------ the answer key stays hidden

def test_hostile_submission_cannot_read_the_answer_key(tmp_path: Path) -> None:
    out = tmp_path / "h.json"
    proc = grade("--course", COURSE, HOSTILE / "exercise1_read_answer_key.py", "--seed", "6", "--json", out)
    assert proc.returncode == 1
    lost = failed(results(out))
    assert {"softmax: matches the reference", "softmax: matches the reference on unseen inputs"} <= lost


IMPORT_ONLY = """# exercise: 1
import importlib, sys
_ref = None
for name in list(sys.modules):
    if name.endswith(".probes") and name.startswith("_grader_course_"):
        try:
            _ref = importlib.import_module(name.rsplit(".", 1)[0] + ".solutions.exercise1").softmax
        except ImportError:
            pass


def softmax(X):
    return _ref(X) if _ref is not None else X * 0
"""


def test_the_import_guard_refuses_the_answer_key_without_landlock(tmp_path: Path) -> None:
    """With the file layers off (as on a machine without Landlock or mount namespaces), the
    import machinery still refuses the answer key's module."""
    path = tmp_path / "exercise1.py"
    path.write_text(IMPORT_ONLY)
    out = tmp_path / "i.json"
    proc = grade("--course", COURSE, path, "--seed", "6", "--json", out,
                 extra_env={"GRADER_TEST_DISABLE_LAYERS": "landlock,mount-hide"})
    assert proc.returncode == 1
    assert "softmax: matches the reference" in failed(results(out))


# ------------------------------------------------------------------ bundles (slow: real wheels)

@pytest.mark.slow
def test_student_bundle_of_the_course(tmp_path: Path) -> None:
    proc = grade("bundle", "student", "--course", COURSE, "--out", tmp_path / "dist", "--seeds", "1,2", timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    [wheel] = (tmp_path / "dist").glob("*.whl")
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert "grader_course_softmax/checks/exercise1.py" in names and "grader_course_softmax/probes.py" in names
    assert "grader/exercises/bundled.py" in names  # it grades softmax whatever else is registered
    assert not [n for n in names if "solutions/" in n or "submissions/" in n]
    assert "def unseen_cases" not in zipfile.ZipFile(wheel).read("grader_course_softmax/checks/exercise1.py").decode()
    python = make_venv(tmp_path / "venv")
    pip_install(python, wheel)
    for sample in (CORRECT / "exercise1_stable.py", BUGGY / "exercise1_naive.py"):
        out = tmp_path / f"{sample.stem}.json"
        run = subprocess.run([str(python.parent / "grade"), str(sample), "--seed", "1", "--json", str(out)],
                             capture_output=True, text=True, env=venv_env(), cwd=tmp_path, timeout=300)
        public = EXPECTED_FAILURES[sample] - {"softmax: matches the reference on unseen inputs"}
        assert run.returncode == (1 if public else 0), run.stderr[-2000:]
        assert failed(results(out)) == public


@pytest.mark.slow
def test_gradescope_bundle_of_the_course(tmp_path: Path) -> None:
    zip_path = tmp_path / "autograder.zip"
    proc = grade("bundle", "gradescope", "--course", COURSE, "--out", zip_path, "--seed", "7", timeout=900)
    assert proc.returncode == 0, proc.stderr[-3000:]
    source = tmp_path / "autograder" / "source"
    with zipfile.ZipFile(zip_path) as zf:
        zf.extractall(source)
        assert "--course softmax" in zf.read("run_autograder").decode()
    (source / "run_autograder").chmod(0o755)
    [wheel] = source.glob("*.whl")
    assert "grader_course_softmax/solutions/exercise1.py" in zipfile.ZipFile(wheel).namelist()
    python = make_venv(tmp_path / "venv")
    pip_install(python, wheel)
    sub = tmp_path / "autograder" / "submission"
    sub.mkdir(parents=True)
    shutil.copy(BUGGY / "exercise1_naive.py", sub / "exercise1.py")
    shutil.copy(CORRECT / "exercise2_logsumexp.py", sub / "exercise2.py")
    run = subprocess.run([str(source / "run_autograder")], capture_output=True, text=True, timeout=600,
                         env=venv_env(AUTOGRADER_ROOT=str(tmp_path / "autograder"),
                                        GRADER_VENV=str(tmp_path / "venv")))
    assert run.returncode == 0, run.stderr[-3000:]
    data = results(tmp_path / "autograder" / "results" / "results.json")
    assert failed(data) == EXPECTED_FAILURES[BUGGY / "exercise1_naive.py"]
    assert data["max_score"] == 15 and data["score"] == 13
