"""`--course DIR|NAME`: read from argv (anywhere) before anything else starts.

Kept to the standard library's lightest modules: `grade` calls it before starting the warm
parent, which inherits GRADER_COURSE and preloads that course's probe modules. The course
itself is loaded later, by `grader.exercises.registry`.
"""
from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Sequence

from grader.errors import UsageError

ENV = "GRADER_COURSE"
GROUP = "grader.courses"
BUILTIN = "dlbasics"


def entry_points() -> dict[str, object]:
    """name -> entry point of every installed course (the `grader.courses` group)."""
    from importlib.metadata import entry_points as found

    try:
        return {ep.name: ep for ep in found(group=GROUP) if installed(ep)}
    except Exception:  # broken metadata of some other distribution
        return {}


@functools.cache
def bundled() -> str | None:
    """The course a wheel built by `grade bundle` ships (its `grader/exercises/bundled.py`,
    written only there), else None: such a wheel grades that course when none is given."""
    try:
        from grader.exercises.bundled import COURSE  # type: ignore[import-not-found]
    except ImportError:
        return None
    return COURSE if isinstance(COURSE, str) and COURSE.strip() else None


def installed(ep: object) -> bool:
    """Whether an entry point's package can be imported here (a distribution's metadata may
    outlive it, or be visible from a path whose import hooks this interpreter never ran)."""
    from importlib.util import find_spec

    top = str(getattr(ep, "value", "")).split(":")[0].split(".")[0]
    try:
        return bool(top) and find_spec(top) is not None
    except (ImportError, ValueError):
        return False


def select(spec: str | None) -> None:
    """Make `spec` the active course, here and in every process started from now on."""
    if spec is None:
        return
    spec = spec.strip()
    if not spec:
        raise UsageError("--course needs a folder or a course name")
    if os.path.isdir(os.path.expanduser(spec)):
        spec = str(Path(spec).expanduser().resolve())
    _check(spec)  # a missing course is reported now; its course.py is loaded after the warm parent starts
    os.environ[ENV] = spec


def _check(spec: str) -> None:
    if is_folder_spec(spec):
        if not os.path.isfile(os.path.join(os.path.expanduser(spec), "course.py")):
            raise UsageError(f"{spec} is not a course folder (it has no course.py)")
    elif spec != BUILTIN and spec not in entry_points():
        raise UsageError(f"no course named {spec!r} (registered: {', '.join(sorted(entry_points())) or 'none'})")


def is_folder_spec(spec: str) -> bool:
    return os.sep in spec or "/" in spec or spec.startswith((".", "~")) or os.path.isdir(spec)


def take_course_option(argv: Sequence[str]) -> list[str]:
    """Remove `--course X` / `--course=X` from argv (anywhere), selecting that course.

    Done before any parser runs, because the warm parent must be started with the course known."""
    out: list[str] = []
    chosen: str | None = None
    args = list(argv)
    i = 0
    while i < len(args):
        arg = args[i]
        if arg == "--":
            out += args[i:]
            break
        if arg == "--course":
            if i + 1 >= len(args):
                raise UsageError("--course needs a folder or a course name")
            chosen = args[i + 1]
            i += 2
            continue
        if arg.startswith("--course="):
            chosen = arg.split("=", 1)[1]
        else:
            out.append(arg)
        i += 1
    select(chosen)
    return out


