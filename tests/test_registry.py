"""The exercise registry: courses from folders and entry points, what they declare, and the
answer keys hidden wherever a course lives."""
from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from conftest import ROOT
from grader.containment import isolation
from grader.errors import UsageError
from grader.exercises import answer_keys, registry

EXAMPLE = ROOT / "examples" / "softmax"


@pytest.fixture
def clean_selection(monkeypatch: pytest.MonkeyPatch):
    """Leave the process's course (and GRADER_COURSE) as they were."""
    monkeypatch.setenv(registry.ENV, "")  # recorded, so that what a test selects is undone
    monkeypatch.delenv(registry.ENV)
    monkeypatch.setattr(registry, "_ACTIVE", {})
    yield


def test_builtin_course_is_the_checkout_under_its_namespaced_name(clean_selection) -> None:
    course = registry.active()
    assert course.name == "dlbasics" and course.package == registry.BUILTIN_PACKAGE
    assert Path(course.root) == ROOT / "reference" and course.numbers == (1, 2, 3, 4, 5, 6)
    exercise = course.exercise(3)
    assert exercise.reference == "grader_dlbasics.exercise3"
    assert course.probe_modules() == ("grader_dlbasics.probes_linalg", "grader_dlbasics.probes_mnist")
    with pytest.raises(LookupError, match="there is no exercise 7 in course dlbasics"):
        course.exercise(7)


def test_a_course_folder_loads_under_a_private_name_with_relative_imports(clean_selection) -> None:
    course = registry.load_folder(EXAMPLE)
    assert course.package.startswith(registry.PRIVATE_PREFIX) and Path(course.root) == EXAMPLE
    assert registry.load_folder(EXAMPLE).package == course.package  # loaded once
    exercise = course.exercise(1)
    assert exercise.reference == course.package + ".solutions.exercise1"
    assert [c.test_name for c in exercise.checks][0] == "softmax: matches the reference"
    assert not any(name == "solutions" or name.startswith("solutions.") for name in sys.modules)


def _advice(check, message: str) -> str:
    from grader.exercises import diagnose
    from grader.results.model import StudentError

    return diagnose.known_error(StudentError("RuntimeError", message), check.known_errors)


def test_known_errors_are_bound_per_function(clean_selection) -> None:
    course = registry.load_folder(EXAMPLE)
    check = course.exercise(1).checks[0]
    assert "last dimension" in _advice(check, "IndexError: Dimension out of range (expected ...)")
    other = course.exercise(2).checks[0]  # cross_entropy: the softmax-only error does not apply
    assert _advice(other, "Dimension out of range") == ""
    builtin = registry.active().exercise(2).checks[0]  # sgd: the optimiser step's advice
    assert "torch.no_grad" in _advice(builtin, "a leaf Variable that requires grad is being used in an in-place operation.")
    loss = registry.active().exercise(1).checks[0]  # squared_loss: no_grad would cut the gradient there
    assert "torch.no_grad" not in _advice(loss, "a leaf Variable that requires grad is being used in an in-place operation.")
    assert "different devices" in _advice(loss, "Expected all tensors to be on the same device")  # the course's, neutral


def test_select_and_env(clean_selection, monkeypatch: pytest.MonkeyPatch) -> None:
    argv = registry.take_course_option(["x.py", "--course", str(EXAMPLE), "--seed", "1"])
    assert argv == ["x.py", "--seed", "1"] and os.environ[registry.ENV] == str(EXAMPLE)
    assert registry.active().name == "softmax"
    assert registry.take_course_option(["--course=dlbasics"]) == [] and registry.active().name == "dlbasics"
    with pytest.raises(UsageError, match="not a course folder"):
        registry.select(str(ROOT / "grader"))
    with pytest.raises(UsageError, match="no course named 'nope'"):
        registry.select("nope")
    with pytest.raises(UsageError, match="needs a folder"):
        registry.take_course_option(["--course"])


def test_a_bundled_wheel_grades_its_own_course_by_default(clean_selection, monkeypatch: pytest.MonkeyPatch) -> None:
    from grader.exercises import course_option

    monkeypatch.setattr(registry, "bundled", lambda: str(EXAMPLE))
    assert registry.active().name == "softmax"
    monkeypatch.setenv(registry.ENV, "dlbasics")  # --course still wins
    assert registry.active().name == "dlbasics"
    course_option.bundled.cache_clear()
    assert course_option.bundled() is None  # a source checkout has no grader/exercises/bundled.py


def test_an_entry_point_whose_package_is_gone_is_not_a_course() -> None:
    from importlib.metadata import EntryPoint

    from grader.exercises import course_option

    gone = EntryPoint("old", "no_such_package_here.course:COURSE", course_option.GROUP)
    here = EntryPoint("dlbasics", "grader_dlbasics.course:COURSE", course_option.GROUP)
    assert not course_option.installed(gone) and course_option.installed(here)


def test_verdict_files_of_one_exercise(clean_selection) -> None:
    course = registry.active()
    rel = {p.relative_to(course.root).as_posix() for p in course.verdict_paths(1)}
    assert {"checks/exercise1.py", "exercise1.py", "course.py", "numpy_solutions.py", "probes_mnist.py",
            "templates/loss_curve.md.j2"} <= rel
    assert "checks/exercise2.py" not in rel and "exercise2.py" not in rel
    assert course.verdict_hash(1) != course.verdict_hash(2)


def test_answer_keys_are_hidden_wherever_the_course_lives(clean_selection, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    import shutil

    copy = tmp_path / "elsewhere" / "my_course"
    shutil.copytree(EXAMPLE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    registry.select(str(copy))
    assert answer_keys.answer_key_dirs() == (str((copy / "solutions").resolve()),)
    from grader.containment import landlock

    monkeypatch.syspath_prepend(str(copy.parent))  # the course folder on sys.path: readable but its key
    roots = landlock.read_roots(answer_keys.answer_key_dirs())

    def covered(path: Path) -> bool:
        return any(str(path) == r or str(path).startswith(r.rstrip("/") + "/") for r in roots)

    assert covered(copy / "checks" / "exercise1.py") and covered(copy / "probes.py")
    assert not covered(copy / "solutions") and not covered(copy / "solutions" / "exercise1.py")


def test_the_import_guard_refuses_hidden_modules(tmp_path: Path) -> None:
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "__init__.py").write_text("SECRET = 1\n")
    (tmp_path / "public.py").write_text("OK = 1\n")
    code = ("import sys\nfrom grader.containment import isolation\n"
            f"sys.path.insert(0, {str(tmp_path)!r})\nisolation.guard_imports(({str(tmp_path / 'keys')!r},))\n"
            "import public\ntry:\n    import keys\nexcept ImportError as e:\n    print('refused', e)\n")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert proc.stdout.strip() == "refused keys is not available to submissions", proc.stderr


def test_no_closed_tuple_of_exercises_left() -> None:
    """The exercise set comes from the registry: no `EXERCISES = (1..6)` or range(1, 7) in the
    grader, tools or bench."""
    offenders = []
    for folder in ("grader", "tools", "bench"):
        for path in (ROOT / folder).rglob("*.py"):
            text = path.read_text(encoding="utf-8")
            if "range(1, 7)" in text or "EXERCISES = (1" in text:
                offenders.append(str(path.relative_to(ROOT)))
    assert offenders == []


def test_core_holds_no_course_modules() -> None:
    assert not (ROOT / "grader" / "worker" / "probes_mnist.py").exists()
    assert not (ROOT / "grader" / "worker" / "probes_linalg.py").exists()
    text = (ROOT / "grader" / "templates" / "report.md.j2").read_text()
    assert "loss_curve" not in text and "loss_curve" not in (ROOT / "grader/templates/report.html.j2").read_text()


def test_bundle_course_names() -> None:
    from grader.distribution import bundle

    course = replace(registry.load_folder(EXAMPLE))
    assert bundle.course_package(course) == "grader_course_softmax"
    assert bundle.course_solution_globs(course, "p") == ("p/solutions", "p/solutions/*")
    assert bundle.solution_files(["p/solutions/exercise1.py", "p/checks/exercise1.py"],
                                 bundle.course_solution_globs(course, "p")) == ["p/solutions/exercise1.py"]


# ------------------------------------------------------------------ installs (slow)

def _venv_with_system_site(path: Path) -> Path:
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(path)], check=True)
    return path / "bin" / "python"


def _pip(python: Path, *args: str) -> None:
    proc = subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                           "--no-build-isolation", *args], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]


PROBE = ("import json, grader, grader_dlbasics\nfrom grader.exercises import registry\nc = registry.active()\n"
         "print(json.dumps({'grader': grader.__file__, 'course': c.name, 'root': c.root, 'pkg': c.package,"
         " 'numbers': list(c.numbers)}))")


@pytest.mark.slow
@pytest.mark.parametrize("editable", [False, True], ids=["wheel", "editable"])
def test_install_registers_the_builtin_course_under_its_namespaced_name(tmp_path: Path, editable: bool) -> None:
    import json
    import shutil

    src = tmp_path / "src"
    files = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout.split()
    for rel in files + [str(p.relative_to(ROOT)) for p in (ROOT / "reference" / "templates").glob("*.j2")]:
        (src / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / rel, src / rel)
    python = _venv_with_system_site(tmp_path / "venv")
    _pip(python, *(["-e", str(src)] if editable else [str(src)]))
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "GRADER_"))}
    proc = subprocess.run([str(python), "-c", PROBE], capture_output=True, text=True, env=env, cwd=tmp_path)
    assert proc.returncode == 0, proc.stderr[-2000:]
    found = json.loads(proc.stdout)
    assert found["course"] == "dlbasics" and found["pkg"] == "grader_dlbasics" and found["numbers"] == [1, 2, 3, 4, 5, 6]
    assert found["grader"].startswith(str(src if editable else tmp_path / "venv")), found
    if editable:
        assert found["root"] == str(src / "reference")
    else:
        site = tmp_path / "venv" / "lib"
        assert found["root"].startswith(str(site)) and found["root"].endswith("grader_dlbasics")
        assert not list(site.glob("python3*/site-packages/reference"))  # nothing called `reference` installed
    grade = subprocess.run([str(tmp_path / "venv" / "bin" / "grade"), str(ROOT / "reference" / "exercise1.py"),
                            "--seed", "1"], capture_output=True, text=True, env=env, cwd=tmp_path, timeout=300)
    assert grade.returncode == 0 and "Score: 10 / 10" in grade.stdout, grade.stderr[-2000:]
