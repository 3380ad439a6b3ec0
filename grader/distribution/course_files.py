"""The course that ships: which exercises, its packages copied (a student's copy without its
solutions), and the checks on what could leak a solution."""
from __future__ import annotations

import ast
import shutil
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from grader.errors import UsageError

if TYPE_CHECKING:
    from grader.exercises.registry import Course

# Never in a student's wheel: the built-in course's solutions, in the source tree and as installed
# (each course declares its own: `Course.solutions`; checked again in the built wheel).
SOLUTION_GLOBS = ("reference/exercise*.py", "reference/numpy_solutions.py",
                  "grader_dlbasics/exercise*.py", "grader_dlbasics/numpy_solutions.py")


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


def copy_course(c: Course, dest: Path, student: bool) -> list[str]:
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


def write_bundled(staging: Path, c: Course) -> None:
    """The wheel's default course (`course_option.bundled`): it grades what it ships, whatever
    other courses the machine has registered."""
    (staging / "grader" / "exercises" / "bundled.py").write_text(
        f'"""Written by `grade bundle`: the course this wheel grades by default."""\nCOURSE = {c.name!r}\n',
        encoding="utf-8")


def course_fill(c: Course, package: str) -> dict[str, object]:
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


def solution_files(names: Sequence[str], globs: Sequence[str] = ()) -> list[str]:
    """Names (wheel entries, paths) that look like reference solutions (the built-in course's,
    and those matching `globs`)."""
    from fnmatch import fnmatch

    return [n for n in names if any(fnmatch(n, g) for g in (*SOLUTION_GLOBS, *globs))]
