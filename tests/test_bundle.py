"""Distribution: precomputed answers, the student wheel (no solutions in it), the Gradescope zip.

Fast tests grade in-process against a store precomputed into a temporary folder; the slow
ones build the real wheel and zip, install them in a fresh virtual environment and run them
as a student (`grade`) and as Gradescope (`run_autograder`) would.

The virtual environments reuse this interpreter's packages (torch, numpy: nothing is
downloaded) through a `.pth` line rather than `--system-site-packages`: that flag would also
run this checkout's editable-install hook, which serves `reference.exercise1` from the
source tree and would hide a leak (or fake one). A student's machine has no such hook.
"""
from __future__ import annotations

import ast
import json
import os
import shutil
import stat
import subprocess
import zipfile
from pathlib import Path

import pytest

from conftest import ROOT, SUBMISSIONS, grade
from venv_helpers import make_venv, pip_install, venv_env
from grader.judge import answers
from grader.distribution import gradescope_runner as autograder
from grader.distribution import bundle
from grader.results import gradescope
from grader.judge import grade as judge
from grader.intake import load
from grader.results import render as report
from grader.sandbox import run as sandbox
from grader.errors import GraderBug, UsageError
from grader.exercises.spec import load_exercise

SEED = 4242
PUBLIC = (4242, 77, 90001)  # the slow tests' public seeds
HIDDEN = {1: "squared_loss: matches the reference on unseen shapes and dtypes",
          2: "sgd: updates many float64 parameters with unseen lr and batch sizes"}


def _files(n: int) -> list[Path]:
    """Correct, buggy and stub submissions of exercise n, and the reference itself."""
    return sorted((SUBMISSIONS / f"exercise{n}").glob("*.py")) + [ROOT / f"exercises/exercise{n}.py",
                                                                    ROOT / f"reference/exercise{n}.py"]


def _public_verdicts(result) -> dict[str, tuple[bool, float]]:
    """test name -> (passed, points), for the checks that ran."""
    return {c.test_name: (c.passed, c.points) for c in result.checks if not c.pending}


@pytest.fixture(scope="module")
def store(tmp_path_factory: pytest.TempPathFactory) -> answers.Store:
    root = tmp_path_factory.mktemp("answers")
    bundle.precompute(root, [1, 2], [SEED])
    return answers.Store.open(root)


def _grade_with(store: answers.Store, path: Path, seed: int = SEED):
    sandbox.warm_up()
    return judge.grade(load.read_submission(path), judge.Options(seed=seed, device="cpu", answers=store))


# ------------------------------------------------------------------ the store, in-process

@pytest.mark.parametrize("path", _files(1) + _files(2), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_store_gives_the_same_verdicts_as_the_reference(store: answers.Store, path: Path) -> None:
    fresh, stored = grade(path, seed=SEED), _grade_with(store, path)
    hidden = HIDDEN[fresh.exercise]
    want = {k: v for k, v in _public_verdicts(fresh).items() if k != hidden}
    assert _public_verdicts(stored) == want
    [pending] = [c for c in stored.checks if c.pending]
    assert pending.test_name == hidden and pending.points == 0 and pending.failure is None
    assert stored.totals.full_max_score == fresh.max_score
    # the same messages, not only the same verdicts
    fails = {c.test_name: c.failure for c in fresh.checks if c.failure}
    for c in stored.checks:
        if c.failure:
            assert c.failure == fails[c.test_name]


def test_a_seed_that_is_not_public_is_a_usage_error(store: answers.Store) -> None:
    with pytest.raises(UsageError, match=f"not one of this installation's public seeds \\({SEED}\\)"):
        _grade_with(store, ROOT / "reference/exercise1.py", seed=SEED + 1)


def test_answers_made_from_other_inputs_are_refused(store: answers.Store, tmp_path: Path) -> None:
    copy = tmp_path / "store"
    shutil.copytree(store.root, copy)
    meta_path = copy / f"exercise2/seed-{SEED}.json"
    meta = json.loads(meta_path.read_text())
    meta["tasks"][0]["params"]["args"][0]["value"] += 0.5  # another lr than the checks make
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(GraderBug, match="made from other inputs"):
        _grade_with(answers.Store.open(copy), ROOT / "reference/exercise2.py")


def test_store_is_json_and_npz_without_pickle(store: answers.Store) -> None:
    import numpy as np

    files = sorted(p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file())
    assert files == ["exercise1/seed-4242.json", "exercise1/seed-4242.npz", "exercise2/seed-4242.json",
                     "exercise2/seed-4242.npz", "manifest.json"]
    with np.load(store.root / "exercise1/seed-4242.npz", allow_pickle=False) as npz:
        assert all(npz[k].dtype.kind in "biuf" for k in npz.files)
    manifest = json.loads((store.root / "manifest.json").read_text())
    assert manifest["seeds"] == [SEED] and manifest["exercises"]["2"]["hidden"] == [HIDDEN[2]]


def test_environment_variable_selects_a_store(store: answers.Store, monkeypatch: pytest.MonkeyPatch) -> None:
    assert answers.installed() is None  # the instructor's checkout: fresh seeds
    monkeypatch.setenv(answers.ENV, str(store.root))
    assert answers.installed() == store
    assert judge.default_seed() == SEED


def test_pending_checks_in_every_report(store: answers.Store) -> None:
    result = _grade_with(store, ROOT / "reference/exercise1.py")
    assert result.passed and result.score == result.max_score == result.totals.full_max_score - 1
    text = report.render("terminal.txt.j2", result)
    assert "runs at submission (1 point)" in text and "all checks run here passed (1 point runs at submission)" in text
    assert "… runs at submission" in report.render_format("md", result)
    assert "runs at submission" in report.render_format("html", result)
    assert '<skipped message="runs at submission"/>' in report.render_format("junit", result)
    data = gradescope.results(result)
    assert HIDDEN[1] not in {t["name"] for t in data["tests"]}
    assert data["score"] == data["max_score"] == sum(t["max_score"] for t in data["tests"]) == 9


def test_every_output_shows_the_one_score(store: answers.Store) -> None:
    """With the student bundle a reference exercise 1 showed "Score: 9 / 10" on the terminal and
    9 / 9 in results.json: every output now takes its totals from `GradeResult.totals`."""
    import re

    from grader.batch.grading import Outcome
    from grader.batch.store import row_of
    from grader.intake import discover

    result = _grade_with(store, ROOT / "reference/exercise1.py")
    assert (result.totals.score, result.totals.max_score, result.totals.pending) == (9, 9, 1)
    text = report.render("terminal.txt.j2", result)
    assert re.findall(r"Score: (\S+) / (\S+)", text) == [("9", "9")]
    assert "**9 / 9** (+ 1 at submission)" in report.render_format("md", result)
    assert "<strong>9 / 9</strong> (+ 1 at submission)" in report.render_format("html", result)
    junit = report.render_format("junit", result)
    assert '<property name="score" value="9"/>' in junit and '<property name="max_score" value="9"/>' in junit
    data = gradescope.results(result)
    assert (data["score"], data["max_score"]) == (9, 9)
    merged = autograder.merge([data, gradescope.results(result)], [])
    assert (merged["score"], merged["max_score"]) == (18, 18)
    row = row_of(discover.Entry("amy", 1, ROOT / "reference/exercise1.py"), "k", Outcome("passed", result))
    assert (row.score, row.max_score) == (9, 9)


def test_hidden_checks_are_declared_and_run_in_the_full_package() -> None:
    for n, name in HIDDEN.items():
        assert [c.test_name for c in load_exercise(n).checks if c.hidden] == [name]
    result = grade(ROOT / "exercises/exercise1.py")
    hidden = next(c for c in result.checks if c.test_name == HIDDEN[1])
    assert not hidden.pending and not hidden.passed and hidden.max_points == 1


# ------------------------------------------------------------------ what goes into the wheel

def test_check_declarations_import_no_solution(tmp_path: Path) -> None:
    assert bundle.solution_imports(ROOT / "reference/checks") == []
    (tmp_path / "exercise9.py").write_text(
        "import importlib\nfrom reference.exercise1 import squared_loss\nimport reference.numpy_solutions\n"
        "from .. import exercise2\nfrom . import exercise1\nfrom reference.checks import exercise1\n"
        "importlib.import_module('reference.exercise3')\n")
    assert bundle.solution_imports(tmp_path) == [
        "exercise9.py: reference.exercise1", "exercise9.py: reference.numpy_solutions",
        "exercise9.py: reference.exercise2", "exercise9.py: reference.exercise3"]


def test_solution_file_names_are_recognised() -> None:
    names = ["grader/judge/grade.py", "reference/checks/exercise1.py", "reference/exercise1.py",
             "reference/numpy_solutions.py", "reference_data/exercise1/seed-1.json"]
    assert bundle.solution_files(names) == ["reference/exercise1.py", "reference/numpy_solutions.py"]


def solution_snippets() -> list[str]:
    """Source text of every reference function, and of each of its statements of 20+ characters,
    except statements the student stubs already show (the contract's formulas are public)."""
    public = "".join(p.read_text() for p in (ROOT / "exercises").glob("exercise*.py"))
    snippets = []
    for path in sorted((ROOT / "reference").glob("exercise*.py")) + [ROOT / "reference/numpy_solutions.py"]:
        source = path.read_text()
        for node in ast.walk(ast.parse(source)):
            if isinstance(node, ast.FunctionDef):
                snippets.append(ast.get_source_segment(source, node))
                for stmt in ast.walk(node):
                    if isinstance(stmt, ast.stmt) and stmt is not node and not (
                            isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)):
                        text = ast.get_source_segment(source, stmt)
                        if len(text.strip()) >= 20 and text.strip() not in public:
                            snippets.append(text)
    return snippets


def leaked_snippets(wheel: Path) -> list[str]:
    """`entry: snippet` for each reference snippet found in a wheel's files."""
    found = []
    with zipfile.ZipFile(wheel) as zf:
        for name in zf.namelist():
            text = zf.read(name).decode("utf-8", "replace")
            found += [f"{name}: {s.strip()[:40]}" for s in solution_snippets() if s in text]
    return found


# ------------------------------------------------------------------ slow: real wheels, fresh venvs

GRADE_ALL = """
import json, sys
from pathlib import Path
import grader, grader_dlbasics as reference
from grader.judge import grade as judge
from grader.intake import load
from grader.sandbox import run as sandbox
sandbox.warm_up()
out = {"grader": grader.__file__, "reference": list(reference.__path__)}
seed = int(sys.argv[1])
for path in sys.argv[2:]:
    r = judge.grade(load.read_submission(Path(path)), judge.Options(seed=seed, device="cpu"))
    out[path] = {"verdicts": {c.test_name: [c.passed, c.points] for c in r.checks if not c.pending},
                 "pending": [c.test_name for c in r.checks if c.pending]}
print(json.dumps(out))
"""


@pytest.fixture(scope="module")
def student_venv(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(the student wheel, the python of a venv where it is installed)."""
    tmp = tmp_path_factory.mktemp("student")
    wheel = bundle.build_student(tmp / "dist", PUBLIC, [1, 2])
    python = make_venv(tmp / "venv")
    pip_install(python, wheel)
    return wheel, python


@pytest.mark.slow
def test_student_wheel_holds_no_solution(student_venv: tuple[Path, Path]) -> None:
    wheel, python = student_venv
    with zipfile.ZipFile(wheel) as zf:
        names = zf.namelist()
    assert bundle.solution_files(names) == [] and leaked_snippets(wheel) == []
    assert {"grader_dlbasics/checks/exercise1.py", "grader_dlbasics/course.py", "grader_dlbasics/probes_mnist.py",
            "reference_data/manifest.json", f"reference_data/exercise2/seed-{PUBLIC[1]}.npz",
            "grader/judge/grade.py", "grader/cli/student.py"} <= set(names)
    assert "grader/distribution/bundle.py" not in names
    assert not any(n.startswith("reference/") for n in names)  # nothing called `reference` in site-packages
    for module in ("grader_dlbasics.exercise1", "grader_dlbasics.exercise2", "grader_dlbasics.numpy_solutions",
                   "reference.exercise1"):
        proc = subprocess.run([str(python), "-c", f"import {module}"], capture_output=True, text=True,
                              cwd=python.parent, env=venv_env())
        assert proc.returncode == 1 and "ModuleNotFoundError" in proc.stderr, (module, proc.stderr)
    installed = python.parent.parent
    text = "\n".join(p.read_text(errors="replace") for p in installed.rglob("*.py") if "site-packages" in str(p))
    assert [s for s in solution_snippets() if s in text] == []


@pytest.mark.slow
def test_student_wheel_gives_the_full_packages_verdicts(student_venv: tuple[Path, Path]) -> None:
    _, python = student_venv
    files = _files(1) + _files(2)
    proc = subprocess.run([str(python), "-c", GRADE_ALL, str(PUBLIC[1]), *map(str, files)], capture_output=True,
                          text=True, cwd=python.parent, env=venv_env(), timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    out = json.loads(proc.stdout)
    assert out["grader"].startswith(str(python.parent.parent))
    assert all(p.startswith(str(python.parent.parent)) for p in out["reference"])
    for path in files:
        fresh = grade(path, seed=PUBLIC[1])
        want = {k: [v[0], v[1]] for k, v in _public_verdicts(fresh).items() if k != HIDDEN[fresh.exercise]}
        assert out[str(path)]["verdicts"] == want, path.name
        assert out[str(path)]["pending"] == [HIDDEN[fresh.exercise].split(": ")[0] + ": hidden check 1"]


@pytest.mark.slow
def test_student_grade_command_uses_public_seeds(student_venv: tuple[Path, Path], tmp_path: Path) -> None:
    _, python = student_venv
    grade_cmd = str(python.parent / "grade")
    env = venv_env()
    buggy = SUBMISSIONS / "exercise1/bug_broadcast.py"
    proc = subprocess.run([grade_cmd, str(buggy), "--json", str(tmp_path / "r.json")], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 1, proc.stderr
    assert any(f"(seed {s}," in proc.stdout for s in PUBLIC) and "runs at submission" in proc.stdout
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["score"] == sum(t["score"] for t in data["tests"]) == 6
    proc = subprocess.run([grade_cmd, str(buggy), "--seed", "5"], capture_output=True, text=True, env=env,
                          cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and proc.stdout == ""
    assert proc.stderr.count("\n") == 1 and "seed 5 is not one of this installation's public seeds" in proc.stderr
    proc = subprocess.run([grade_cmd, "bundle", "student", "--out", str(tmp_path)], capture_output=True, text=True,
                          env=env, cwd=tmp_path, timeout=120)
    assert proc.returncode == 2 and "not available in this installation" in proc.stderr


@pytest.mark.slow
def test_gradescope_zip_runs_against_a_fake_autograder_tree(tmp_path: Path) -> None:
    out = bundle.build_gradescope(tmp_path / "autograder.zip", None, "2.13.0")
    with zipfile.ZipFile(out) as zf:
        infos = {i.filename: i for i in zf.infolist()}
        [wheel_name] = [n for n in infos if n.endswith(".whl")]
        assert set(infos) == {"setup.sh", "run_autograder", wheel_name}
        for name in ("setup.sh", "run_autograder"):
            assert (infos[name].external_attr >> 16) & stat.S_IXUSR
        setup = zf.read("setup.sh").decode()
        source = tmp_path / "autograder" / "source"
        zf.extractall(source)
        for info in infos.values():  # as unzip does: the modes stored in the zip
            (source / info.filename).chmod((info.external_attr >> 16) & 0o777)
    assert 'pip install --no-cache-dir torch==2.13.0 --index-url "$TORCH_INDEX"' in setup
    assert "https://download.pytorch.org/whl/cpu" in setup and "-m venv" in setup
    assert f"pip install --no-cache-dir ./{wheel_name}" in setup
    wheel = tmp_path / "autograder" / "source" / wheel_name
    assert leaked_snippets(wheel), "the instructor's wheel has the solutions: the scan must find them"

    python = make_venv(tmp_path / "venv")
    pip_install(python, wheel)
    sub = tmp_path / "autograder" / "submission"
    (sub / "hw").mkdir(parents=True)
    shutil.copy(SUBMISSIONS / "exercise1/bug_broadcast.py", sub / "hw" / "my_exercise1.py")
    shutil.copy(SUBMISSIONS / "exercise2/ok_none.py", sub / "exercise2.py")
    (sub / "notes.py").write_text("print('not an exercise')\n")
    env = {**venv_env(), "AUTOGRADER_ROOT": str(tmp_path / "autograder"), "GRADER_VENV": str(tmp_path / "venv"),
           "PATH": f"{python.parent}{os.pathsep}{os.environ['PATH']}"}
    script = tmp_path / "autograder" / "source" / "run_autograder"
    proc = subprocess.run([str(script)], capture_output=True, text=True, env=env, timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    data = json.loads((tmp_path / "autograder" / "results" / "results.json").read_text())

    tests = data["tests"]
    assert data["score"] == round(sum(t["score"] for t in tests), 6) == 6 + 10  # bug_broadcast loses 3 + 1 (hidden); ok_none loses none
    assert data["max_score"] == round(sum(t["max_score"] for t in tests), 6) == 20
    for test in tests:
        assert set(test) >= {"name", "score", "max_score", "status", "output", "visibility"}
        assert test["status"] in ("passed", "failed") and test["visibility"] in gradescope.VISIBILITIES
        assert test["name"].split(":")[0] in ("squared_loss", "sgd")
        assert (test["status"] == "passed") == (test["score"] == test["max_score"])
        assert test["visibility"] == ("after_published" if test["name"] in HIDDEN.values() else "visible")
        assert (test["output"] == "") == (test["status"] == "passed")
    failed = {t["name"] for t in tests if t["status"] == "failed"}
    assert failed == {"squared_loss: reshapes y of shape (n,) to y_hat's shape", HIDDEN[1]}
    assert "notes.py" in data["output"] and data["stdout_visibility"] == "hidden"


# ------------------------------------------------------------------ run_autograder's pieces

def test_autograder_finds_files_by_the_contract(tmp_path: Path) -> None:
    (tmp_path / "sub").mkdir()
    (tmp_path / "sub" / "Exercise1 (1).py").write_text("x = 1\n")
    (tmp_path / "exercise1.py").write_text("x = 1\n")
    (tmp_path / "answer.py").write_text("# exercise: 2\nx = 1\n")
    (tmp_path / "readme.py").write_text("x = 1\n")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "exercise3.py").write_text("x = 1\n")
    chosen, notes = autograder.find(tmp_path, None)
    assert chosen == {1: tmp_path / "exercise1.py", 2: tmp_path / "answer.py"}
    assert any("Exercise1 (1).py" in n and "another file" in n for n in notes)
    assert any("readme.py" in n for n in notes)
    chosen, notes = autograder.find(tmp_path, [2])
    assert chosen == {2: tmp_path / "answer.py"} and any("not part of this assignment" in n for n in notes)


def test_autograder_scores_a_missing_exercise_zero_of_its_full_marks(tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AUTOGRADER_ROOT", str(tmp_path))
    (tmp_path / "submission").mkdir()
    assert autograder.main(["--exercises", "2"]) == 0
    data = json.loads((tmp_path / "results" / "results.json").read_text())
    assert data["score"] == 0 and data["max_score"] == load_exercise(2).max_score == 10
    assert data["tests"][0]["name"] == "submission: no exercise2 file"
    assert {t["visibility"] for t in data["tests"] if t["name"] == HIDDEN[2]} == {"after_published"}
    assert autograder.main([]) == 0
    data = json.loads((tmp_path / "results" / "results.json").read_text())
    assert data["score"] == data["max_score"] == 0 and "No exercise file" in data["output"]


# ------------------------------------------------------------------ hidden checks stay behind

def _hidden_source(n: int) -> list[str]:
    """Names and source of each hidden check of exercise n: its name, case maker (name and body)."""
    import inspect

    found = []
    for c in load_exercise(n).checks:
        if c.hidden:
            found += [c.name, c.cases.__name__, inspect.getsource(c.cases)]
    return found


@pytest.fixture(scope="module")
def staged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("staged")
    bundle.stage_student(root, [1, 2], [SEED])
    return root


def test_student_package_holds_no_hidden_check(staged: Path) -> None:
    text = "\n".join(p.read_text(encoding="utf-8", errors="replace") for p in staged.rglob("*")
                     if p.is_file() and p.suffix in (".py", ".json", ".toml", ".md"))
    secrets_ = [s for n in (1, 2) for s in _hidden_source(n)]
    assert len(secrets_) == 6
    assert [s[:60] for s in secrets_ if s in text] == []
    assert "def unseen_cases" in (ROOT / "reference/checks/exercise1.py").read_text()  # the source keeps them


def test_student_package_grades_and_reports_hidden_checks_pending(staged: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import runpy

    exercises = {n: runpy.run_path(str(staged / f"grader_dlbasics/checks/exercise{n}.py"))["EXERCISE"] for n in (1, 2)}
    store = answers.Store.open(staged / answers.PACKAGE)
    for path in (SUBMISSIONS / "exercise1/bug_broadcast.py", ROOT / "reference/exercise2.py"):
        fresh = grade(path, seed=SEED)
        with monkeypatch.context() as m:
            m.setattr(judge, "load_exercise", exercises.__getitem__)
            stored = _grade_with(store, path)
        hidden = HIDDEN[fresh.exercise]
        assert _public_verdicts(stored) == {k: v for k, v in _public_verdicts(fresh).items() if k != hidden}
        assert [c.test_name for c in stored.checks if c.pending] == [hidden.split(": ")[0] + ": hidden check 1"]
        assert stored.totals.full_max_score == fresh.max_score


def test_stripping_keeps_what_other_modules_import() -> None:
    source = ("from grader.exercises.spec import Check, Exercise\n\ndef helper(rng):\n    return []\n\n"
              "def secret_cases(rng):\n    return helper(rng)\n\n"
              "EXERCISE = Exercise(number=9, title='t', reference='r', checks=(\n"
              "    Check('f', 'public', 1, helper, None),\n"
              "    Check('f', 'secret name', 2, secret_cases, None, hint='secret hint', hidden=True)))\n")
    from grader.distribution.hidden_checks import strip_hidden_source

    out = strip_hidden_source(source)
    assert "secret" not in out and "def helper" in out and "'f', 'hidden check 1', 2, _hidden_cases" in out
    assert "def secret_cases" in strip_hidden_source(source, {"secret_cases"})
    assert "def secret_cases" in strip_hidden_source(source, None)


def test_pyproject_lists_every_grader_package() -> None:
    """A subpackage missing from pyproject.toml would be left out of the wheel."""
    import tomllib

    from grader.distribution.wheels import SOURCE, grader_packages

    listed = tomllib.loads((SOURCE / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"]
    assert set(grader_packages()) <= set(listed)
