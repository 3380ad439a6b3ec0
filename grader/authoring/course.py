"""Where authoring commands look an exercise up: the active course (`--course DIR|NAME`,
`GRADER_COURSE`, else the built-in one; the CLI selects it before any parser runs)."""
from __future__ import annotations

from pathlib import Path

from grader.errors import UsageError
from grader.exercises.spec import Exercise, load_exercise


def exercise(number: int) -> Exercise:
    """Exercise `number` of the active course; UsageError when there is none."""
    try:
        return load_exercise(number)
    except LookupError as exc:
        raise UsageError(str(exc)) from None


def stub_folders() -> list[Path]:
    """Where the active course keeps its students' stubs: its `exercises/` folder, and for the
    built-in course in a source checkout, the repository's `exercises/`."""
    from grader.exercises import registry

    course = registry.active()
    folders = [Path(course.root) / "exercises"]
    if course.name == registry.BUILTIN:
        folders.append(Path(__file__).resolve().parents[2] / "exercises")
    return [f for f in folders if f.is_dir()]
