"""`grade bundle student|gradescope`: what to hand out, built from the grader's source tree.

- `grade bundle student --out DIR`: a wheel for students. It holds `grader/`, the check
  declarations (`reference/checks/`) and a generated `reference_data/` package of
  precomputed answers for a few public seeds (`grader/answers.py`), but no reference
  solution: `reference/exercise*.py` and `reference/numpy_solutions.py` stay behind.
- `grade bundle gradescope --out autograder.zip`: Gradescope's autograder zip: `setup.sh`
  and `run_autograder` at its root, beside the instructor's wheel (the full package, which
  grades on fresh seeds and runs the hidden checks).

Both wheels are built by `python -m build` from a staging folder; the zip is written with
zipfile only because Gradescope wants a zip.
"""
from __future__ import annotations

import argparse
import ast
import json
import shutil
import stat
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path
from typing import Sequence

from . import __version__, answers
from .errors import UsageError

SOURCE = Path(__file__).resolve().parent.parent  # the source tree: pyproject.toml, grader/, reference/
PACKAGING = SOURCE / "packaging"
DEFAULT_SEEDS = 5
# Never in a student's wheel: the solutions (checked again in the built wheel).
SOLUTION_GLOBS = ("reference/exercise*.py", "reference/numpy_solutions.py")
STUDENT_OMITS = ("bundle.py", "autograder.py")  # instructor-only modules of grader/
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def parser() -> argparse.ArgumentParser:
    p = _Parser(prog="grade bundle", description="Build what to hand out: a student wheel or a Gradescope zip.")
    sub = p.add_subparsers(dest="kind", required=True, parser_class=_Parser)
    s = sub.add_parser("student", help="a wheel for students: public seeds' answers, no reference source")
    s.add_argument("--out", type=Path, required=True, help="folder for the wheel")
    s.add_argument("--seeds", type=_int_list, help="public seeds, comma-separated (default: 5 drawn at random)")
    s.add_argument("--exercises", type=_int_list, help="exercises to include, comma-separated (default: all present)")
    g = sub.add_parser("gradescope", help="a Gradescope autograder zip (setup.sh, run_autograder, the wheel)")
    g.add_argument("--out", type=Path, required=True, help="the zip to write, e.g. autograder.zip")
    g.add_argument("--exercises", type=_int_list, help="grade only these exercises' files (default: any found)")
    g.add_argument("--torch", default=_torch_version(), help="the torch version setup.sh installs (CPU build)")
    g.add_argument("--timeout", type=float, help="seconds per submission file (default: the exercise's)")
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
    _require_source()
    if args.kind == "student":
        wheel = build_student(args.out, args.seeds, args.exercises)
    else:
        wheel = build_gradescope(args.out, args.exercises, args.torch, args.timeout)
    print(f"wrote {wheel} ({wheel.stat().st_size / 1e6:.1f} MB)")
    return 0


def _require_source() -> None:
    needed = [SOURCE / "pyproject.toml", SOURCE / "reference" / "checks", PACKAGING / "setup.sh"]
    missing = [str(p) for p in needed if not p.exists()]
    if missing:
        raise UsageError("`grade bundle` builds from the grader's source tree (a checkout), "
                         f"and this installation lacks {', '.join(missing)}")


# ------------------------------------------------------------------ exercises and answers

def exercises_present(wanted: Sequence[int] | None = None) -> list[int]:
    """The exercises whose checks are declared here (all of `wanted`, which must exist)."""
    from .spec import EXERCISES, load_exercise

    present = []
    for n in wanted or EXERCISES:
        try:
            load_exercise(n)
        except LookupError as exc:
            if wanted:
                raise UsageError(str(exc)) from None
            continue
        present.append(n)
    if not present:
        raise UsageError("no exercise is declared in reference/checks/")
    return present


def solution_imports(checks_dir: Path) -> list[str]:
    """`file: module` for every import in the check declarations that could reach a solution.

    Checks may import `grader.*`, `reference.checks.*`, numpy and the standard library; a
    check that imported `reference.exerciseN` would ship the answers.
    """
    problems = []
    for path in sorted(checks_dir.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
            names: list[str] = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level == 1:  # from . import x / from .x import y: inside reference.checks
                    continue
                if node.level >= 2:
                    base = "reference" + (f".{base}" if base else "")
                names = [base] if base != "reference" else [f"reference.{a.name}" for a in node.names]
            names += [n for n in _dynamic_imports(node)]
            problems += [f"{path.name}: {n}" for n in names
                         if n.split(".")[0] == "reference" and not n.startswith("reference.checks")]
    return problems


def _dynamic_imports(node: ast.AST) -> list[str]:
    """String arguments of importlib.import_module(...) / __import__(...) calls."""
    if isinstance(node, ast.Call) and node.args and isinstance(node.args[0], ast.Constant):
        func = node.func
        name = func.attr if isinstance(func, ast.Attribute) else func.id if isinstance(func, ast.Name) else ""
        if name in ("import_module", "__import__") and isinstance(node.args[0].value, str):
            return [node.args[0].value]
    return []


def precompute(root: Path, numbers: Sequence[int], seeds: Sequence[int]) -> None:
    """Run the reference on every public task of `numbers` x `seeds`; store the answers in `root`."""
    from . import judge, sandbox
    from .spec import load_exercise

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


# ------------------------------------------------------------------ building wheels

def _build_wheel(staging: Path, out: Path) -> Path:
    """`python -m build --wheel` on a staging folder (no isolation: offline, same setuptools)."""
    out.mkdir(parents=True, exist_ok=True)
    before = set(out.glob("*.whl"))
    cmd = [sys.executable, "-m", "build", "--wheel", "--no-isolation", "--outdir", str(out), str(staging)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600)
    except FileNotFoundError:
        raise UsageError("cannot run the Python interpreter to build the wheel") from None
    if proc.returncode != 0:
        if "No module named build" in proc.stderr:
            raise UsageError("`grade bundle` needs the `build` package: pip install build")
        raise UsageError(f"building the wheel failed:\n{(proc.stdout + proc.stderr)[-3000:]}")
    made = sorted(set(out.glob("*.whl")) - before) or sorted(out.glob("*.whl"), key=lambda p: p.stat().st_mtime)
    return made[-1]


def _dependencies() -> list[str]:
    import tomllib

    return list(tomllib.loads((SOURCE / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"])


def stage_student(staging: Path, numbers: Sequence[int], seeds: Sequence[int]) -> None:
    """Lay out the student package: grader/, reference/checks/, reference_data/, pyproject."""
    problems = solution_imports(SOURCE / "reference" / "checks")
    if problems:
        raise UsageError("the check declarations import reference solutions, which would ship them: "
                         + "; ".join(problems))
    shutil.copytree(SOURCE / "grader", staging / "grader", ignore=shutil.ignore_patterns(
        "__pycache__", "*.pyc", *STUDENT_OMITS))
    ref = staging / "reference"
    shutil.copytree(SOURCE / "reference" / "checks", ref / "checks", ignore=_IGNORE)
    (ref / "__init__.py").write_text('"""Each exercise\'s declared checks. The reference solutions are not part '
                                     'of this installation."""\n', encoding="utf-8")
    data = staging / answers.PACKAGE
    data.mkdir()
    (data / "__init__.py").write_text('"""Precomputed expected answers for the public seeds (data only; '
                                      'see grader/answers.py)."""\n', encoding="utf-8")
    precompute(data, numbers, seeds)
    fill = {"version": f"{__version__}+student", "dependencies": json.dumps(_dependencies()),
            "packages": json.dumps(["grader", "grader.data", "grader.templates", "reference", "reference.checks",
                                 answers.PACKAGE, *(f"{answers.PACKAGE}.exercise{n}" for n in numbers)]),
            "nseeds": len(seeds), "seeds": ", ".join(map(str, seeds))}
    (staging / "pyproject.toml").write_text(_template("student-pyproject.toml", fill), encoding="utf-8")
    (staging / "README.md").write_text(_template("student-README.md", fill), encoding="utf-8")


def _template(name: str, fill: dict[str, object]) -> str:
    """packaging/NAME with each `{key}` of `fill` replaced (other braces, as in shell, stay)."""
    text = (PACKAGING / name).read_text(encoding="utf-8")
    for key, value in fill.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def solution_files(names: Sequence[str]) -> list[str]:
    """Names (wheel entries, paths) that look like reference solutions."""
    from fnmatch import fnmatch

    return [n for n in names if any(fnmatch(n, g) for g in SOLUTION_GLOBS)]


def build_student(out: Path, seeds: Sequence[int] | None = None, wanted: Sequence[int] | None = None) -> Path:
    """Build the student wheel into `out`; return its path."""
    import secrets

    numbers = exercises_present(wanted)
    seeds = list(seeds or sorted({secrets.randbelow(2**31) for _ in range(DEFAULT_SEEDS)}))
    with tempfile.TemporaryDirectory(prefix="grader-bundle-") as tmp:
        staging = Path(tmp) / "student"
        staging.mkdir()
        stage_student(staging, numbers, seeds)
        wheel = _build_wheel(staging, out)
    with zipfile.ZipFile(wheel) as zf:
        leaked = solution_files(zf.namelist())
    if leaked:
        wheel.unlink()
        raise UsageError(f"the student wheel would contain reference solutions ({', '.join(leaked)}); not written")
    return wheel


def build_instructor_wheel(out: Path) -> Path:
    """The full package (solutions included) as a wheel, from a clean copy of the source."""
    with tempfile.TemporaryDirectory(prefix="grader-bundle-") as tmp:
        staging = Path(tmp) / "instructor"
        staging.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(SOURCE / name, staging / name)
        for name in ("grader", "reference"):
            shutil.copytree(SOURCE / name, staging / name, ignore=_IGNORE)
        return _build_wheel(staging, out)


def build_gradescope(out: Path, exercises: Sequence[int] | None, torch_version: str,
                     timeout: float | None = None) -> Path:
    """Write Gradescope's autograder zip to `out`; return its path."""
    if exercises:
        exercises_present(exercises)
    args = []
    if exercises:
        args += ["--exercises", ",".join(map(str, exercises))]
    if timeout:
        args += ["--timeout", f"{timeout:g}"]
    with tempfile.TemporaryDirectory(prefix="grader-bundle-") as tmp:
        wheel = build_instructor_wheel(Path(tmp))
        fill = {"torch_version": torch_version, "wheel": wheel.name, "args": " ".join(args)}
        out.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
            _add(zf, "setup.sh", _template("setup.sh", fill), executable=True)
            _add(zf, "run_autograder", _template("run_autograder", fill), executable=True)
            zf.write(wheel, wheel.name)
    return out


def _add(zf: zipfile.ZipFile, name: str, text: str, executable: bool = False) -> None:
    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
    info.compress_type = zipfile.ZIP_DEFLATED
    mode = 0o755 if executable else 0o644
    info.external_attr = (stat.S_IFREG | mode) << 16
    zf.writestr(info, text)
