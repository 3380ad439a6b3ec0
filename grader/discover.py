"""Find a class's submissions: `DIR/<student>/exerciseN.(py|ipynb)` or `DIR/<student>_exerciseN.*`."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from . import load
from .errors import UsageError

SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Entry:
    """One submission to grade."""

    student: str
    exercise: int
    path: Path


@dataclass(frozen=True)
class Skipped:
    """A file that is not graded, and why."""

    path: Path
    reason: str


@dataclass(frozen=True)
class Found:
    entries: tuple[Entry, ...]
    skipped: tuple[Skipped, ...]


def _exercise_of(path: Path) -> int:
    """The exercise number by the contract's rules (marker first, then the file name).

    An unreadable file named like an exercise is still an entry: grading it reports why.
    """
    try:
        text = load.read_text(path)
    except UsageError:
        return load.exercise_number(path, "")
    if path.suffix.lower() == ".py":
        return load.exercise_number(path, text)
    try:
        cells = load.notebook_cells(path, text)
    except UsageError:
        return load.exercise_number(path, "")  # graded later, and reported as unreadable
    return load.exercise_number(path, cells[0][1] if cells else "")


def _candidates(root: Path) -> list[tuple[str, Path]]:
    """(student, file) pairs from both layouts; hidden files and folders are ignored."""
    out = []
    for child in sorted(root.iterdir()):
        if child.name.startswith((".", "__")):
            continue
        if child.is_dir():
            out += [(child.name, f) for f in sorted(child.rglob("*"))
                    if f.is_file() and not any(p.startswith((".", "__")) for p in f.relative_to(child).parts)]
        elif child.is_file():
            student = child.name.split("_", 1)[0] if "_" in child.name else ""
            out.append((student, child))
    return out


def discover(root: Path) -> Found:
    """Every gradable submission under `root`; for a student with two files for one
    exercise, the newest is taken and the other listed as skipped."""
    if not root.is_dir():
        raise UsageError(f"not a folder: {root}")
    chosen: dict[tuple[str, int], Entry] = {}
    skipped: list[Skipped] = []
    for student, path in _candidates(root):
        if path.suffix.lower() not in SUFFIXES:
            skipped.append(Skipped(path, "not a .py or .ipynb file"))
            continue
        if not student:
            skipped.append(Skipped(path, "no student name (expected DIR/<student>/file or DIR/<student>_file)"))
            continue
        try:
            number = _exercise_of(path)
        except UsageError as exc:
            skipped.append(Skipped(path, str(exc)))
            continue
        entry = Entry(student, number, path)
        old = chosen.get((student, number))
        if old is None:
            chosen[(student, number)] = entry
            continue
        newer, older = (entry, old) if path.stat().st_mtime > old.path.stat().st_mtime else (old, entry)
        chosen[(student, number)] = newer
        skipped.append(Skipped(older.path, f"an older submission of exercise {number} (graded: {newer.path.name})"))
    entries = tuple(sorted(chosen.values(), key=lambda e: (e.student, e.exercise)))
    return Found(entries, tuple(skipped))
