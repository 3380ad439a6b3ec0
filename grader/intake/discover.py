"""Find a class's submissions: `DIR/<student>/exerciseN.(py|ipynb)` or `DIR/<student>_exerciseN.*`."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterator, Sequence

from grader.intake import lms, load
from grader.intake.lms import Skipped
from grader.errors import UsageError

SUFFIXES = (".py", ".ipynb")


@dataclass(frozen=True)
class Entry:
    """One submission to grade."""

    student: str
    exercise: int
    path: Path
    root: Path | None = None  # the folder its real path must stay inside (default: its own)
    submitted_at: float | None = None  # seconds since the epoch, from `time_source`
    time_source: str = ""  # lms.MTIME, lms.CANVAS_LATE, lms.GRADESCOPE or lms.GIT
    late: bool = False  # the LMS marked it late


@dataclass(frozen=True)
class Found:
    entries: tuple[Entry, ...]
    skipped: tuple[Skipped, ...]


def _exercise_of(path: Path, root: Path | None = None) -> int:
    """The exercise number by the contract's rules (marker first, then the file name).

    An unreadable file named like an exercise is still an entry: grading it reports why.
    A file that is not read at all (a link, a special or oversized file) raises load.Refused.
    """
    try:
        text = load.read_text(path, root)
    except load.Refused:
        raise
    except UsageError:
        return load.exercise_number(path, "")
    if path.suffix.lower() == ".py":
        return load.exercise_number(path, text)
    try:
        cells = load.notebook_cells(path, text)
    except UsageError:
        return load.exercise_number(path, "")  # graded later, and reported as unreadable
    return load.exercise_number(path, cells[0][1] if cells else "")


def _hidden(name: str) -> bool:
    return name.startswith((".", "__"))


def walk(folder: Path) -> Iterator[Path]:
    """Every non-folder under `folder` (links and special files included, to be refused when
    read), in name order; links to folders are never followed, hidden names are ignored."""
    try:
        children = sorted(os.scandir(folder), key=lambda e: e.name)
    except OSError:
        return
    for child in children:
        if _hidden(child.name):
            continue
        if child.is_dir(follow_symlinks=False):
            yield from walk(Path(child.path))
        else:
            yield Path(child.path)


def _candidates(root: Path) -> tuple[list[lms.Candidate], list[Skipped]]:
    """Candidates from every layout (plain, Canvas, Gradescope, GitHub Classroom) and the files
    an LMS layout could not map to a student; hidden files and folders are ignored."""
    if (root / lms.METADATA).is_file() and not (root / lms.METADATA).is_symlink():
        return lms.gradescope(root, walk)
    children = [c for c in sorted(root.iterdir()) if not _hidden(c.name)]
    folders = [c for c in children if c.is_dir() and not c.is_symlink()]
    repos = lms.classroom_students([f for f in folders if lms.is_repository(f)])
    out = []
    for child in children:
        if child in folders:
            student, when, source = child.name, None, ""
            if child.name in repos:
                student, when = repos[child.name], lms.commit_time(child, root)
                source = lms.GIT if when is not None else ""
            out += [lms.Candidate(student, f, when, source) for f in walk(child)]
            continue
        canvas = lms.canvas_name(child.name)
        if canvas is not None:
            out.append(lms.Candidate(canvas.user_id, child, None, lms.CANVAS_LATE if canvas.late else "", canvas.late))
        else:
            out.append(lms.Candidate(child.name.split("_", 1)[0] if "_" in child.name else "", child))
    return out, []


def _kind(path: Path) -> str:
    """Why a file with the wrong suffix is passed over."""
    try:
        mode = path.lstat().st_mode
    except OSError:
        mode = 0
    if stat.S_ISLNK(mode):
        return "a symbolic link: links are not followed"
    return "not a .py or .ipynb file"


def _mtime(path: Path) -> float:
    try:
        return path.lstat().st_mtime
    except OSError:
        return 0.0


def preferred(paths: Sequence[Path], number: int, root: Path | None = None,
              when: Callable[[Path], float] | None = None) -> list[Path]:
    """Files that claim one exercise, best first (the one rule for the batch and Gradescope):
    the one named exactly `exerciseN.py`/`.ipynb` (after the `<student>_` prefix of a file
    directly in `root`), then the newest (by `when`: the submission time an LMS recorded,
    else the file's mtime), then a .py over a notebook, then by path."""
    when = when or _mtime
    exact = (f"exercise{number}.py", f"exercise{number}.ipynb")

    def own_name(path: Path) -> str:
        name = path.name.lower()
        return name.split("_", 1)[-1] if root is not None and path.parent == root else name

    return sorted(paths, key=lambda p: (own_name(p) not in exact, -when(p), -_mtime(p), p.suffix.lower() != ".py", str(p)))


def discover(root: Path, resolve: Callable[[str], str] = str) -> Found:
    """Every gradable submission under `root`; for a student with two files for one
    exercise, the newest is taken and the other listed as skipped. `resolve` maps the name a
    layout gives (a Canvas user id, an e-mail) to the roster's student."""
    if not root.is_dir():
        raise UsageError(f"not a folder: {root}")
    chosen: dict[tuple[str, int], Entry] = {}
    candidates, skipped = _candidates(root)
    for candidate in candidates:
        student, path = resolve(candidate.student) if candidate.student else "", candidate.path
        if path.suffix.lower() not in SUFFIXES:
            skipped.append(Skipped(path, _kind(path)))
            continue
        if not student:
            skipped.append(Skipped(path, "no student name (expected DIR/<student>/file or DIR/<student>_file)"))
            continue
        try:
            number = _exercise_of(path, root)
        except UsageError as exc:
            skipped.append(Skipped(path, str(exc)))
            continue
        except Exception as exc:  # one file never stops a batch
            skipped.append(Skipped(path, f"could not be read ({type(exc).__name__}: {str(exc)[:200]})"))
            continue
        when = candidate.submitted_at if candidate.submitted_at is not None else _mtime(path)
        entry = Entry(student, number, path, root, when, candidate.source or lms.MTIME, candidate.late)
        old = chosen.get((student, number))
        if old is None:
            chosen[(student, number)] = entry
            continue
        times = {old.path: old.submitted_at or _mtime(old.path), path: when or _mtime(path)}
        best = preferred([old.path, path], number, root, times.__getitem__)[0]
        newer, older = (entry, old) if best == path else (old, entry)
        chosen[(student, number)] = newer
        what = "an older submission" if _mtime(older.path) < _mtime(newer.path) else "another file"
        skipped.append(Skipped(older.path, f"{what} of exercise {number} (graded: {load.shown(newer.path.name)})"))
    entries = tuple(sorted(chosen.values(), key=lambda e: (e.student, e.exercise)))
    return Found(entries, tuple(skipped))
