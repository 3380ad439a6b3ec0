"""The exercise registry: which course is graded, and what it declares.

A course is a folder holding `course.py`, which exposes ``COURSE`` (a `Course`). Courses are
found through the entry-point group ``grader.courses`` (an installed package:
``name = "pkg.course:COURSE"``) and through ``--course DIR|NAME`` (also ``GRADER_COURSE``;
read from argv by `grader.exercises.course_option`).
A course folder is loaded under a private package name, so its modules import each other
relatively and never shadow (or are shadowed by) anything on sys.path. The built-in course
(the repository's ``reference/``, installed as ``grader_dlbasics``) is registered the same way.

The active course is chosen from the environment: the CLI reads ``--course`` from argv before
anything starts (`course_option.select` sets GRADER_COURSE), so the warm parent, which
inherits the environment, preloads the same course's probe modules.
"""
from __future__ import annotations

import importlib
import importlib.machinery
import importlib.util
import os
import re
import sys
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING, Mapping, Sequence

from grader.errors import UsageError
from grader.results import sections as _sections_hook
from grader.exercises.diagnose import KnownError, KnownErrors  # noqa: F401 - courses declare them
from grader.exercises.course_option import (BUILTIN, ENV, GROUP, bundled, is_folder_spec, select,  # noqa: F401
                                            take_course_option)

if TYPE_CHECKING:  # kept light: `grade` selects the course before the warm parent starts
    from grader.exercises.spec import Exercise

BUILTIN_PACKAGE = "grader_dlbasics"  # the built-in course's import name (pyproject maps it to reference/)
PRIVATE_PREFIX = "_grader_course_"
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,63}")


@dataclass(frozen=True)
class Course:
    """What a course declares. Paths and module names are relative to the course folder.

    - `exercises`: number -> check module (exposing ``EXERCISE``), e.g. ``"checks.exercise1"``.
    - `answer_keys`: files or folders no student worker may read or import (``"."``: all of it).
    - `solutions`: glob patterns of the files that never ship to students (student bundle);
      default: the answer keys.
    - `probes`: worker-side modules registering probes, preloaded by the warm parent.
    - `known_errors`: message patterns -> diagnoses, for every exercise of the course
      (an exercise adds its own in `Exercise.known_errors`).
    - `report_sections`: template names (without ``.md.j2``/``.html.j2``/``.txt.j2``) in the
      course's `templates/` folder, included by the generic reports after the checks.
    - `verdict_files`: glob patterns of the files an exercise's verdicts depend on, hashed
      into the batch cache key and shipped in bundles (``{n}``: the exercise number).
    `package` and `root` are filled in by the loader.
    """

    name: str
    exercises: Mapping[int, str]
    answer_keys: tuple[str, ...] = ()
    solutions: tuple[str, ...] = ()
    probes: tuple[str, ...] = ()
    known_errors: tuple[KnownError, ...] = ()
    report_sections: tuple[str, ...] = ()
    verdict_files: tuple[str, ...] = ("course.py", "__init__.py", "checks/__init__.py", "checks/exercise{n}.py")
    title: str = ""
    package: str = ""
    root: str = ""

    @property
    def numbers(self) -> tuple[int, ...]:
        return tuple(sorted(self.exercises))

    def module(self, relative: str) -> str:
        """The absolute module name of one of the course's modules."""
        return importlib.util.resolve_name(relative if relative.startswith(".") else "." + relative, self.package)

    def probe_modules(self) -> tuple[str, ...]:
        return tuple(self.module(m) for m in self.probes)

    def answer_key_paths(self) -> tuple[str, ...]:
        """The answer keys' real paths in this copy of the course."""
        return tuple(os.path.realpath(os.path.join(self.root, k)) for k in self.answer_keys)

    def templates_dir(self) -> str | None:
        path = os.path.join(self.root, "templates")
        return path if self.report_sections and os.path.isdir(path) else None

    def verdict_paths(self, number: int) -> list[Path]:
        """The files exercise `number`'s verdicts depend on, sorted, inside the course folder."""
        import glob

        root = Path(self.root).resolve()
        found: set[Path] = set()
        for pattern in self.verdict_files:
            for name in glob.glob(pattern.replace("{n}", str(number)), root_dir=root, recursive=True):
                path = (root / name).resolve()
                if path.is_file() and path.is_relative_to(root) and "__pycache__" not in path.parts:
                    found.add(path)
        return sorted(found)

    def verdict_hash(self, number: int) -> str:
        import hashlib

        h = hashlib.sha256(self.name.encode() + b"\0")
        root = Path(self.root).resolve()
        for path in self.verdict_paths(number):
            h.update(path.relative_to(root).as_posix().encode() + b"\0")
            h.update(hashlib.sha256(path.read_bytes()).digest())
        return h.hexdigest()

    def exercise(self, number: int) -> Exercise:
        """The declared exercise `number`, its names resolved (LookupError when there is none)."""
        if number not in self.exercises:
            known = ", ".join(map(str, self.numbers)) or "none"
            raise LookupError(f"there is no exercise {number} in course {self.name} (known: {known})")
        try:
            module = importlib.import_module(self.module(self.exercises[number]))
        except ModuleNotFoundError as exc:
            raise LookupError(f"exercise {number} is not available in this installation ({exc.name})") from None
        exercise: Exercise = module.EXERCISE
        reference = exercise.reference
        if reference.startswith("."):
            reference = importlib.util.resolve_name(reference, self.package)
        checks = tuple(replace(c, known_errors=self.known_errors_of(exercise, c.function)) for c in exercise.checks)
        return replace(exercise, reference=reference, checks=checks)


    def known_errors_of(self, exercise: Exercise, function: str) -> KnownErrors:
        """The known errors for `function`, most specific first: the exercise's for that function,
        the exercise's for every function ("*"), then the course's (for that function or any)."""
        own = exercise.known_errors.get(function, ()) + exercise.known_errors.get("*", ())
        return own + tuple(k for k in self.known_errors if k.function in ("", function))


# ------------------------------------------------------------------ loading

def load_folder(folder: str | os.PathLike[str], package: str | None = None) -> Course:
    """Load the course in `folder` (its `course.py`) under a private package name."""
    root = Path(folder).expanduser()
    if not (root / "course.py").is_file():
        raise UsageError(f"{folder} is not a course folder (it has no course.py)")
    root = root.resolve()
    if package is None:
        import hashlib

        package = PRIVATE_PREFIX + hashlib.sha256(str(root).encode()).hexdigest()[:12]
    existing = sys.modules.get(package)
    if existing is None or [os.path.realpath(p) for p in getattr(existing, "__path__", [])] != [str(root)]:
        init = root / "__init__.py"
        spec = importlib.util.spec_from_file_location(package, init if init.is_file() else None,
                                                      submodule_search_locations=[str(root)])
        if spec is None or spec.loader is None:  # a namespace-like folder without __init__.py
            spec = importlib.machinery.ModuleSpec(package, None, is_package=True)
            spec.submodule_search_locations = [str(root)]
        module = importlib.util.module_from_spec(spec)
        sys.modules[package] = module
        try:
            if spec.loader is not None:
                spec.loader.exec_module(module)
        except BaseException:
            del sys.modules[package]
            raise
    return _bind(importlib.import_module(f"{package}.course"), package, root)


def _bind(module: object, package: str, root: Path) -> Course:
    course = getattr(module, "COURSE", None)
    if not isinstance(course, Course):
        raise UsageError(f"{root / 'course.py'} does not define COURSE = Course(...)")
    if not _NAME.fullmatch(course.name):
        raise UsageError(f"{root / 'course.py'}: a course name is letters, digits and _ (got {course.name!r})")
    return replace(course, package=package, root=str(root))


def _source_checkout() -> Path | None:
    """The built-in course's folder when the grader runs from a source checkout."""
    folder = Path(__file__).resolve().parents[2] / "reference"
    return folder if (folder / "course.py").is_file() else None


def _entry_points() -> dict[str, object]:
    from grader.exercises.course_option import entry_points

    return entry_points()


def builtin() -> Course | None:
    """The built-in course: a source checkout's `reference/`, else the installed package."""
    folder = _source_checkout()
    if folder is not None:
        return load_folder(folder, BUILTIN_PACKAGE)
    return by_name(BUILTIN, fallback=False)


def by_name(name: str, fallback: bool = True) -> Course | None:
    """A course registered under `name` in the entry-point group (None when there is none)."""
    if fallback and name == BUILTIN:
        return builtin()
    ep = _entry_points().get(name)
    if ep is None:
        return None
    module_name = ep.value.split(":")[0]  # type: ignore[attr-defined]
    module = importlib.import_module(module_name)
    package = module_name.rpartition(".")[0] or module_name
    root = Path(module.__file__).resolve().parent  # type: ignore[arg-type]
    return _bind(module, package, root)


def names() -> list[str]:
    """The registered course names (entry points, and the built-in one)."""
    found = set(_entry_points())
    if _source_checkout() is not None:
        found.add(BUILTIN)
    return sorted(found)


def find(spec: str) -> Course:
    """`spec` is a course folder or a registered name."""
    if is_folder_spec(spec):
        if not os.path.isdir(os.path.expanduser(spec)):
            raise UsageError(f"no such course folder: {spec}")
        return load_folder(spec)
    course = by_name(spec)
    if course is None:
        raise UsageError(f"no course named {spec!r} (registered: {', '.join(names()) or 'none'})")
    return course


_ACTIVE: dict[str, Course] = {}  # GRADER_COURSE's value -> the course it names


def active() -> Course:
    """The course this process grades: GRADER_COURSE (a folder or a name, set from --course by
    `course_option`), else the one a bundled wheel ships, else the built-in one."""
    spec = os.environ.get(ENV, "").strip() or bundled() or ""
    if spec not in _ACTIVE:
        if spec:
            course = find(spec)
        else:
            course = builtin()
            if course is None:
                registered = names()
                if len(registered) != 1:
                    raise UsageError("no course given: use --course DIR (or GRADER_COURSE=DIR); "
                                     f"registered: {', '.join(registered) or 'none'}")
                course = find(registered[0])
        _ACTIVE[spec] = course
    return _ACTIVE[spec]


def _sections() -> tuple[tuple[str, ...], str | None]:
    """The active course's report sections and their templates' folder (for results.render)."""
    course = active()
    folder = course.templates_dir()
    return (course.report_sections if folder else ()), folder


def load_exercise(number: int) -> Exercise:
    """Exercise `number` of the active course."""
    return active().exercise(number)


_sections_hook.set_section_source(_sections)
