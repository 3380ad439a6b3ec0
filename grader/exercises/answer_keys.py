"""Where the active course's answer keys are, in every copy an import or open() could reach:
what the student's worker must not read (the sandbox hides them; `grade doctor` lists them)."""
from __future__ import annotations

import os
import sys

from grader.exercises import registry


def answer_key_dirs() -> tuple[str, ...]:
    """Every copy of the active course's answer keys that an import or open() could reach
    (the student's worker reads none), wherever the course lives.

    Not only the course's own folder: an editable install's finder, or a checkout beside an
    installed copy, would otherwise leave a second copy readable.
    """
    course = registry.active()
    names = [course.package] + (["reference"] if course.package == registry.BUILTIN_PACKAGE else [])
    found: list[str] = []
    for root in [course.root, *_package_dirs(names)]:
        for key in course.answer_keys:
            real = os.path.realpath(os.path.join(root, key))
            if os.path.exists(real) and real not in found:
                found.append(real)
    return tuple(found)


def _package_dirs(names: list[str]) -> list[str]:
    """The folders of every package called one of `names` that the finders can see."""
    import importlib.machinery

    specs = []
    for name in names:
        for finder in sys.meta_path:
            try:
                specs.append(finder.find_spec(name, None))  # type: ignore[attr-defined]
            except Exception:  # finders of all kinds; any may object
                continue
        for entry in sys.path:
            try:
                specs.append(importlib.machinery.PathFinder.find_spec(name, [entry or os.getcwd()]))
            except (ImportError, ValueError, OSError):
                continue
    dirs: list[str] = []
    for spec in specs:
        for path in (spec.submodule_search_locations or []) if spec is not None else []:
            real = os.path.realpath(path)
            if os.path.isdir(real) and real not in dirs:
                dirs.append(real)
    return dirs
