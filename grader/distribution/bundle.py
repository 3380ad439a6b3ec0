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
from typing import TYPE_CHECKING, Sequence

from grader import __version__
from grader.judge import answers
from grader.errors import UsageError
from grader.cli.options import Parser, add_course

if TYPE_CHECKING:
    from grader.exercises.registry import Course

SOURCE = Path(__file__).resolve().parents[2]  # the source tree: pyproject.toml, grader/, reference/
PACKAGING = SOURCE / "packaging"
DEFAULT_SEEDS = 4  # public seeds in a student wheel: ~5.4 MB each with all six exercises (25 MB cap)
# Never in a student's wheel: the built-in course's solutions, in the source tree and as installed
# (each course declares its own: `Course.solutions`; checked again in the built wheel).
SOLUTION_GLOBS = ("reference/exercise*.py", "reference/numpy_solutions.py",
                  "grader_dlbasics/exercise*.py", "grader_dlbasics/numpy_solutions.py")
STUDENT_OMITS = ("bundle.py", "gradescope_runner.py")  # instructor-only modules of grader/distribution/
_IGNORE = shutil.ignore_patterns("__pycache__", "*.pyc", "*.egg-info")


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


# ------------------------------------------------------------------ exercises and answers

def exercises_present(wanted: Sequence[int] | None = None) -> list[int]:
    """The exercises whose checks are declared here (all of `wanted`, which must exist)."""
    from grader.exercises.spec import load_exercise

    present = []
    for n in wanted or course().numbers:
        try:
            load_exercise(n)
        except LookupError as exc:
            if wanted:
                raise UsageError(str(exc)) from None
            continue
        present.append(n)
    if not present:
        raise UsageError(f"no exercise is declared in {course().root}")
    return present


# ------------------------------------------------------------------ the course that ships

def course() -> Course:
    """The active course (`--course`, else the built-in one)."""
    from grader.exercises import registry

    return registry.active()


def course_package(c: Course) -> str:
    """The import name a course is installed under (the built-in one: grader_dlbasics)."""
    from grader.exercises import registry

    return registry.BUILTIN_PACKAGE if c.name == registry.BUILTIN else f"grader_course_{c.name}"


def check_dirs(c: Course) -> list[Path]:
    """The folders holding the course's check modules."""
    root = Path(c.root)
    return sorted({(root / m.lstrip(".").replace(".", "/")).parent for m in c.exercises.values()})


def course_solution_globs(c: Course, prefix: str = "") -> tuple[str, ...]:
    """Patterns (relative to the course folder, or under `prefix/`) of what never ships to students."""
    globs = c.solutions or c.answer_keys
    base = f"{prefix}/" if prefix else ""
    return tuple(p for g in globs if g not in (".", "") for p in (base + g, base + g + "/*"))


def _copy_course(c: Course, dest: Path, student: bool) -> list[str]:
    """Copy the course's packages and templates to `dest` (a student's copy without its
    solutions; folders that are not packages, such as stubs or sample submissions, stay); the
    package names."""
    from fnmatch import fnmatch

    root = Path(c.root)
    drop = course_solution_globs(c) if student else ()

    def ignore(folder: str, names: list[str]) -> set[str]:
        rel = Path(folder).relative_to(root)
        here = Path(folder)
        return {n for n in names if n == "__pycache__" or n.endswith((".pyc", ".egg-info"))
                or any(fnmatch((rel / n).as_posix(), g) for g in drop)
                or ((here / n).is_dir() and n != "templates" and not (here / n / "__init__.py").exists())}

    shutil.copytree(root, dest, ignore=ignore)
    package = dest.name
    found = [package] + sorted(package + "." + ".".join(d.relative_to(dest).parts) for d in dest.rglob("*")
                               if d.is_dir() and ((d / "__init__.py").exists() or d.name == "templates")
                               and "__pycache__" not in d.parts)
    return found


def _write_bundled(staging: Path, c: Course) -> None:
    """The wheel's default course (`course_option.bundled`): it grades what it ships, whatever
    other courses the machine has registered."""
    (staging / "grader" / "exercises" / "bundled.py").write_text(
        f'"""Written by `grade bundle`: the course this wheel grades by default."""\nCOURSE = {c.name!r}\n',
        encoding="utf-8")


def _course_fill(c: Course, package: str) -> dict[str, object]:
    return {"course_name": c.name, "course_package": package}


def solution_imports(checks_dir: Path, packages: Sequence[str] = ("reference",)) -> list[str]:
    """`file: module` for every import in the check declarations that could reach a solution.

    Checks may import `grader.*`, their own folder (`from . import x`, `reference.checks.*`),
    numpy and the standard library; a check that imported `reference.exerciseN` (or anything of
    its course's package outside its checks) would ship the answers.
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
                         if n.split(".")[0] in packages and not n.startswith(f"{n.split('.')[0]}.checks")]
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
    packages = _copy_course(c, staging / package, student=True)
    _write_bundled(staging, c)
    for folder in check_dirs(c):
        strip_hidden_checks(staging / package / folder.relative_to(c.root))
    _check_stripped(staging / package, numbers)
    data = staging / answers.PACKAGE
    data.mkdir()
    (data / "__init__.py").write_text('"""Precomputed expected answers for the public seeds (data only; '
                                      'see grader/judge/answers.py)."""\n', encoding="utf-8")
    precompute(data, numbers, seeds)
    _rename_hidden_in_manifest(data / answers.MANIFEST)
    fill = {"version": f"{__version__}+student", "dependencies": json.dumps(_dependencies()),
            "packages": json.dumps([*grader_packages(), *packages,
                                 answers.PACKAGE, *(f"{answers.PACKAGE}.exercise{n}" for n in numbers)]),
            "nseeds": len(seeds), "seeds": ", ".join(map(str, seeds)), **_course_fill(c, package)}
    (staging / "pyproject.toml").write_text(_template("student-pyproject.toml", fill), encoding="utf-8")
    (staging / "README.md").write_text(_template("student-README.md", fill), encoding="utf-8")


# ------------------------------------------------------------------ hidden checks stay behind

HIDDEN_NAME = "hidden check {}"  # what the student package calls its k-th hidden check (1-based)
_STUBS = '''

def _hidden_cases(rng):
    """A hidden check's cases exist only in the instructor's package."""
    return []


def _hidden_verdict(case, expected, got):
    return None
'''


def strip_hidden_checks(checks_dir: Path) -> None:
    """Rewrite the staged check modules so that no hidden check's source ships.

    Each `Check(..., hidden=True)` keeps only its function and points, under the name
    HIDDEN_NAME, with stub cases and verdict (it is reported as pending); the top-level
    definitions that only hidden checks used (case makers, their helpers, verdicts, hints)
    are removed. Public checks are untouched: their inputs come from their own names' seeds.
    """
    paths = sorted(checks_dir.glob("*.py"))
    texts = {p: p.read_text(encoding="utf-8") for p in paths}
    for path in paths:
        kept = _imported_by_siblings(path.stem, [t for q, t in texts.items() if q != path])
        stripped = strip_hidden_source(texts[path], kept)
        if stripped != texts[path]:
            path.write_text(stripped, encoding="utf-8")


def _imported_by_siblings(module: str, siblings: Sequence[str]) -> set[str] | None:
    """The names other check modules import from `module`; None when one imports it whole."""
    names: set[str] = set()
    for text in siblings:
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[-1] == module:
                names |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and any(a.name == module for a in node.names):
                return None
            elif isinstance(node, ast.Import) and any(a.name.split(".")[-1] == module for a in node.names):
                return None
    return names


def strip_hidden_source(source: str, kept: set[str] | None = frozenset()) -> str:
    """`source` of a check module without its hidden checks' source (see strip_hidden_checks).

    Names in `kept` stay (other modules import them); `kept=None` keeps every definition.
    """
    tree = ast.parse(source)
    candidates: set[str] = set()
    count = 0
    for node in ast.walk(tree):
        if _is_hidden_check(node):
            count += 1
            candidates |= {n.id for n in ast.walk(node) if isinstance(n, ast.Name)}
            _blank(node, count)
    if not count:
        return source
    if kept is not None:
        _drop_unused(tree, candidates, set(kept))
    tree.body[_after_imports(tree):_after_imports(tree)] = ast.parse(_STUBS).body
    return ast.unparse(tree) + "\n"


def _is_hidden_check(node: ast.AST) -> bool:
    return (isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "Check"
            and any(k.arg == "hidden" and isinstance(k.value, ast.Constant) and k.value.value is True
                    for k in node.keywords))


def _blank(call: ast.Call, k: int) -> None:
    """Check(function, name, points, cases, verdict, ...) -> Check(function, HIDDEN_NAME, points, stubs)."""
    given = {key: i for i, key in enumerate(("function", "name", "points"))}
    args = {key: call.args[i] for key, i in given.items() if i < len(call.args)}
    args.update({kw.arg: kw.value for kw in call.keywords if kw.arg in given})
    call.args = [args["function"], ast.Constant(HIDDEN_NAME.format(k)), args["points"],
                 ast.Name("_hidden_cases", ast.Load()), ast.Name("_hidden_verdict", ast.Load())]
    call.keywords = [ast.keyword("hidden", ast.Constant(True))]


def _defined(stmt: ast.stmt) -> set[str]:
    if isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {stmt.name}
    if isinstance(stmt, (ast.Assign, ast.AnnAssign)):
        targets = stmt.targets if isinstance(stmt, ast.Assign) else [stmt.target]
        names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
        return names if names and all(isinstance(t, ast.Name) for t in targets) else set()
    return set()


def _drop_unused(tree: ast.Module, candidates: set[str], kept: set[str]) -> None:
    """Remove top-level definitions of `candidates` (never of `kept`) that nothing left uses,
    transitively."""
    candidates = candidates - kept
    while True:
        used: dict[int, set[str]] = {i: {n.id for n in ast.walk(s) if isinstance(n, ast.Name)}
                                     for i, s in enumerate(tree.body)}
        doomed = []
        for i, stmt in enumerate(tree.body):
            names = _defined(stmt)
            if not names or not names <= candidates:
                continue
            elsewhere = set().union(*(u for j, u in used.items() if j != i))
            if names & elsewhere:
                continue
            doomed.append(i)
            candidates |= used[i] - kept
        if not doomed:
            return
        tree.body = [s for i, s in enumerate(tree.body) if i not in doomed]


def _after_imports(tree: ast.Module) -> int:
    """The index just after the module docstring and the leading imports."""
    i = 0
    for i, stmt in enumerate(tree.body):
        docstring = i == 0 and isinstance(stmt, ast.Expr) and isinstance(stmt.value, ast.Constant)
        if not (docstring or isinstance(stmt, (ast.Import, ast.ImportFrom))):
            return i
    return len(tree.body)


def _check_stripped(staged_course: Path, numbers: Sequence[int]) -> None:
    """UsageError unless every hidden check of the staged modules lost its cases (one that is
    declared in a form the transform does not know would ship)."""
    from grader.exercises import registry

    staged = registry.load_folder(staged_course)
    for n in numbers:
        exercise = staged.exercise(n)
        left = [c.test_name for c in exercise.checks if c.hidden and c.cases.__name__ != "_hidden_cases"]
        if left:
            raise UsageError(f"the student wheel would ship hidden checks' cases ({', '.join(left)}): "
                             "declare them as `Check(..., hidden=True)` in EXERCISE")


def _rename_hidden_in_manifest(path: Path) -> None:
    """The store's manifest names hidden checks as the student package does (HIDDEN_NAME)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    for table in data["exercises"].values():
        hidden = table.get("hidden", [])
        renamed = {name: f"{name.split(': ', 1)[0]}: {HIDDEN_NAME.format(k)}" for k, name in enumerate(hidden, 1)}
        table["checks"] = [renamed.get(n, n) for n in table.get("checks", [])]
        table["hidden"] = list(renamed.values())
    path.write_text(json.dumps(data, indent=1), encoding="utf-8")


def grader_packages(root: Path = SOURCE) -> list[str]:
    """The `grader` package and its subpackages (templates, a data-only folder, included)."""
    top = root / "grader"
    found = ["grader"] + sorted("grader." + ".".join(d.relative_to(top).parts) for d in top.rglob("*")
                                if d.is_dir() and ((d / "__init__.py").exists() or d.name == "templates")
                                and "__pycache__" not in d.parts)
    return found


def _template(name: str, fill: dict[str, object]) -> str:
    """packaging/NAME with each `{key}` of `fill` replaced (other braces, as in shell, stay)."""
    text = (PACKAGING / name).read_text(encoding="utf-8")
    for key, value in fill.items():
        text = text.replace("{" + key + "}", str(value))
    return text


def solution_files(names: Sequence[str], globs: Sequence[str] = ()) -> list[str]:
    """Names (wheel entries, paths) that look like reference solutions (the built-in course's,
    and those matching `globs`)."""
    from fnmatch import fnmatch

    return [n for n in names if any(fnmatch(n, g) for g in (*SOLUTION_GLOBS, *globs))]


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
        shutil.copytree(SOURCE / "grader", staging / "grader", ignore=_IGNORE)
        packages = _copy_course(c, staging / package, student=False)
        _write_bundled(staging, c)
        fill = {"name": project["name"], "version": __version__, "dependencies": json.dumps(_dependencies()),
                "packages": json.dumps([*grader_packages(), *packages]), **_course_fill(c, package)}
        (staging / "pyproject.toml").write_text(_template("instructor-pyproject.toml", fill), encoding="utf-8")
        return _build_wheel(staging, out)


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
