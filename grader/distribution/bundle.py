"""`grade bundle student|gradescope`: what to hand out, built from the grader's source tree.

- `grade bundle student --out DIR`: a wheel for students. It holds `grader/`, the course
  (the active one, `--course`; the built-in course installs as `grader_dlbasics`) without its
  solutions (`Course.solutions`: `reference/exercise*.py` and `reference/numpy_solutions.py`
  for the built-in one), and a generated `reference_data/` package of precomputed answers for
  a few public seeds (`grader/judge/answers.py`); the source of the hidden checks stays behind
  too (`strip_hidden_checks`: each keeps its function and points under a neutral name and is
  reported as pending).
- `grade bundle gradescope --out autograder.zip`: Gradescope's autograder zip: `setup.sh`
  and `run_autograder` at its root, beside the instructor's wheel (the full package, which
  grades on fresh seeds and runs the hidden checks).

Both wheels are built by `python -m build` from a staging folder (`wheels`); the zip is written
with zipfile only because Gradescope wants a zip. What of the course ships is `course_files`, the
stripping of hidden checks `hidden_checks`.
"""
from __future__ import annotations

import argparse
import json
import shutil
import stat
import tempfile
import zipfile
from pathlib import Path
from typing import Sequence

from grader import __version__
from grader.judge import answers
from grader.errors import UsageError
from grader.cli.options import Parser, add_course
from grader.distribution.course_files import (check_dirs, copy_course, course, course_fill, course_package,
                                              course_solution_globs, exercises_present, solution_files,
                                              solution_imports, write_bundled)
from grader.distribution.hidden_checks import check_stripped, rename_hidden_in_manifest, strip_hidden_checks
from grader.distribution.wheels import (IGNORE, PACKAGING, SOURCE, build_wheel, dependencies, grader_packages,
                                        template)

DEFAULT_SEEDS = 4  # public seeds in a student wheel: ~5.4 MB each with all six exercises (25 MB cap)
# instructor-only modules of grader/distribution/
STUDENT_OMITS = ("bundle.py", "course_files.py", "hidden_checks.py", "wheels.py", "gradescope_runner.py")


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="grade bundle", description="Build what to hand out: a student wheel or a Gradescope zip.")
    sub = p.add_subparsers(dest="kind", required=True, parser_class=Parser)
    s = sub.add_parser("student", help="a wheel for students: public seeds' answers, no reference source")
    s.add_argument("--out", type=Path, required=True, help="folder for the wheel")
    s.add_argument("--seeds", type=_int_list, help="public seeds, comma-separated (default: 4 drawn at random)")
    s.add_argument("--exercises", type=_int_list, help="exercises to include, comma-separated (default: all present)")
    add_course(s)
    g = sub.add_parser("gradescope", help="a Gradescope autograder zip (setup.sh, run_autograder, the wheel)")
    g.add_argument("--out", type=Path, required=True, help="the zip to write, e.g. autograder.zip")
    g.add_argument("--exercises", type=_int_list, help="grade only these exercises' files (default: any found)")
    g.add_argument("--torch", default=_torch_version(), help="the torch version setup.sh installs (CPU build)")
    g.add_argument("--timeout", type=float, help="seconds per submission file (default: the exercise's)")
    g.add_argument("--seed", type=int, help="the assignment's seed, stored in run_autograder so a resubmission "
                   "gets the same grade (default: drawn now, and printed)")
    add_course(g)
    return p


def _int_list(text: str) -> list[int]:
    try:
        values = [int(x) for x in text.split(",") if x.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated integers, got {text!r}") from None
    if not values or any(v < 0 for v in values):
        raise argparse.ArgumentTypeError(f"expected non-negative integers, got {text!r}")
    return list(dict.fromkeys(values))


def _torch_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("torch").split("+")[0]
    except PackageNotFoundError:
        return "2.13.0"


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(list(argv))
    from grader.exercises import registry

    registry.select(args.course)
    _require_source()
    if args.kind == "student":
        wheel = build_student(args.out, args.seeds, args.exercises)
    else:
        import secrets

        seed = args.seed if args.seed is not None else secrets.randbelow(2**31)
        if not 0 <= seed < 2**63:
            raise UsageError("--seed must be a non-negative integer")
        wheel = build_gradescope(args.out, args.exercises, args.torch, args.timeout, seed)
        print(f"seed {seed} (stored in run_autograder: every submission is graded on it)")
    print(f"wrote {wheel} ({wheel.stat().st_size / 1e6:.1f} MB)")
    return 0


def _require_source() -> None:
    needed = [SOURCE / "pyproject.toml", PACKAGING / "setup.sh"]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        raise UsageError("`grade bundle` builds from the grader's source tree (a checkout), "
                         f"and this installation lacks {', '.join(missing)}")


def precompute(root: Path, numbers: Sequence[int], seeds: Sequence[int]) -> None:
    """Run the reference on every public task of `numbers` x `seeds`; store the answers in `root`."""
    from grader.judge import grade as judge
    from grader.sandbox import run as sandbox
    from grader.exercises.spec import load_exercise

    sandbox.warm_up(notebooks=False)
    table = {}
    for number in numbers:
        exercise = load_exercise(number)
        for seed in seeds:
            public = [p for p in judge.plan(exercise, seed) if not p.check.hidden]
            tasks = [t for p in public for t in p.tasks]
            names = [p.check.test_name for p in public for _ in p.tasks]
            worker = sandbox.start_reference(exercise.reference, tasks)
            sandbox.reference_ready(worker)
            expected = sandbox.collect_reference(worker, tasks, timeout=max(120.0, 4 * exercise.timeout))
            keep = [answers.reads_arrays(p.check.verdict) for p in public for _ in p.tasks]
            answers.write(root, number, seed, names, tasks, expected, keep)
        table[number] = {"title": exercise.title, "checks": [c.test_name for c in exercise.checks],
                         "hidden": [c.test_name for c in exercise.checks if c.hidden]}
    answers.write_manifest(root, seeds, table)


def stage_student(staging: Path, numbers: Sequence[int], seeds: Sequence[int]) -> None:
    """Lay out the student package: grader/, the course without its solutions, reference_data/,
    pyproject."""
    c = course()
    package = course_package(c)
    problems = [p for d in check_dirs(c) for p in solution_imports(d, ("reference", package, c.package))]
    if problems:
        raise UsageError("the check declarations import reference solutions, which would ship them: "
                         + "; ".join(problems))
    shutil.copytree(SOURCE / "grader", staging / "grader", ignore=shutil.ignore_patterns(
        "__pycache__", "*.pyc", *STUDENT_OMITS))
    packages = copy_course(c, staging / package, student=True)
    write_bundled(staging, c)
    for folder in check_dirs(c):
        strip_hidden_checks(staging / package / folder.relative_to(c.root))
    check_stripped(staging / package, numbers)
    data = staging / answers.PACKAGE
    data.mkdir()
    (data / "__init__.py").write_text('"""Precomputed expected answers for the public seeds (data only; '
                                      'see grader/judge/answers.py)."""\n', encoding="utf-8")
    precompute(data, numbers, seeds)
    rename_hidden_in_manifest(data / answers.MANIFEST)
    fill = {"version": f"{__version__}+student", "dependencies": json.dumps(dependencies()),
            "packages": json.dumps([*grader_packages(), *packages,
                                 answers.PACKAGE, *(f"{answers.PACKAGE}.exercise{n}" for n in numbers)]),
            "nseeds": len(seeds), "seeds": ", ".join(map(str, seeds)), **course_fill(c, package)}
    (staging / "pyproject.toml").write_text(template("student-pyproject.toml", fill), encoding="utf-8")
    (staging / "README.md").write_text(template("student-README.md", fill), encoding="utf-8")


def build_student(out: Path, seeds: Sequence[int] | None = None, wanted: Sequence[int] | None = None) -> Path:
    """Build the student wheel into `out`; return its path."""
    import secrets

    numbers = exercises_present(wanted)
    seeds = list(seeds or sorted({secrets.randbelow(2**31) for _ in range(DEFAULT_SEEDS)}))
    with tempfile.TemporaryDirectory(prefix="grader-bundle-") as tmp:
        staging = Path(tmp) / "student"
        staging.mkdir()
        stage_student(staging, numbers, seeds)
        wheel = build_wheel(staging, out)
    with zipfile.ZipFile(wheel) as zf:
        leaked = solution_files(zf.namelist(), course_solution_globs(course(), course_package(course())))
    if leaked:
        wheel.unlink()
        raise UsageError(f"the student wheel would contain reference solutions ({', '.join(leaked)}); not written")
    return wheel


def build_instructor_wheel(out: Path) -> Path:
    """The grader and the whole course (solutions included) as a wheel, from a clean copy."""
    import tomllib

    c = course()
    package = course_package(c)
    project = tomllib.loads((SOURCE / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    with tempfile.TemporaryDirectory(prefix="grader-bundle-") as tmp:
        staging = Path(tmp) / "instructor"
        staging.mkdir()
        shutil.copy2(SOURCE / "README.md", staging / "README.md")
        shutil.copytree(SOURCE / "grader", staging / "grader", ignore=IGNORE)
        packages = copy_course(c, staging / package, student=False)
        write_bundled(staging, c)
        fill = {"name": project["name"], "version": __version__, "dependencies": json.dumps(dependencies()),
                "packages": json.dumps([*grader_packages(), *packages]), **course_fill(c, package)}
        (staging / "pyproject.toml").write_text(template("instructor-pyproject.toml", fill), encoding="utf-8")
        return build_wheel(staging, out)


def build_gradescope(out: Path, exercises: Sequence[int] | None, torch_version: str,
                     timeout: float | None = None, seed: int | None = None) -> Path:
    """Write Gradescope's autograder zip to `out`; return its path."""
    if exercises:
        exercises_present(exercises)
    args = ["--course", course().name]
    if exercises:
        args += ["--exercises", ",".join(map(str, exercises))]
    if timeout:
        args += ["--timeout", f"{timeout:g}"]
    if seed is None:  # an assignment's seed is fixed here, so a resubmission gets the same grade
        import secrets

        seed = secrets.randbelow(2**31)
    args += ["--seed", str(int(seed))]
    with tempfile.TemporaryDirectory(prefix="grader-bundle-") as tmp:
        wheel = build_instructor_wheel(Path(tmp))
        fill = {"torch_version": torch_version, "wheel": wheel.name, "args": " ".join(args)}
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            _add(zf, "setup.sh", template("setup.sh", fill), executable=True)
            _add(zf, "run_autograder", template("run_autograder", fill), executable=True)
            zf.write(wheel, wheel.name)
    return out


def _add(zf: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    zf.writestr(info, text)
