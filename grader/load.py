"""Read a submission file into code units, and find which exercise it is."""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from .errors import UsageError
from .jobs import Unit

MAX_FILE_BYTES = 50 * 1024 * 1024  # checked before parsing; saved outputs count
MARKER = re.compile(r"^\s*#\s*exercise\s*:\s*(\d+)\s*$", re.IGNORECASE)
NAME = re.compile(r"exercise\s*_?(\d+)", re.IGNORECASE)


@dataclass(frozen=True)
class Submission:
    """A readable submission: where it came from, its exercise, and the code to run."""

    path: Path
    exercise: int
    units: tuple[Unit, ...]
    notebook: bool = False

    @property
    def name(self) -> str:
        return self.path.name


def read_text(path: Path) -> str:
    """The file's text, or a UsageError naming what is wrong with it."""
    if not path.exists():
        raise UsageError(f"no such file: {path}")
    if not path.is_file():
        raise UsageError(f"not a file: {path}")
    if path.suffix.lower() not in (".py", ".ipynb"):
        raise UsageError(f"cannot grade {path.name}: expected a .py file or a .ipynb notebook")
    if path.stat().st_size > MAX_FILE_BYTES:
        hint = ": clear its outputs (Edit > Clear All Outputs) and save" if path.suffix.lower() == ".ipynb" else ""
        raise UsageError(f"{path.name} is larger than {MAX_FILE_BYTES // 2**20} MiB{hint}")
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{path.name} is not UTF-8 text (byte {exc.start})") from None
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def exercise_number(path: Path, first_code: str) -> int:
    """From a `# exercise: N` marker in the first 5 lines, else `exerciseN` in the name."""
    for line in first_code.splitlines()[:5]:
        match = MARKER.match(line)
        if match:
            return int(match.group(1))
    match = NAME.search(path.stem)
    if match:
        return int(match.group(1))
    raise UsageError(f"cannot tell which exercise {path.name} is: name it exerciseN.py "
                     "or put `# exercise: N` in its first lines")


def notebook_cells(path: Path, text: str) -> list[tuple[int, str]]:
    """(cell number, source) of the code cells to run, saved outputs ignored."""
    from . import notebook

    return notebook.code_cells(path, notebook.parse(path, text))


def read_submission(path: Path | str) -> Submission:
    """Everything needed to grade `path`; UsageError if it cannot be graded at all."""
    path = Path(path)
    text = read_text(path)
    if path.suffix.lower() == ".py":
        number = exercise_number(path, text)
        return Submission(path, number, (Unit(path.name, text),))
    cells = notebook_cells(path, text)
    number = exercise_number(path, cells[0][1] if cells else "")
    units = tuple(Unit(f"{path.name} [cell {n}]", src, "ipython") for n, src in cells)
    return Submission(path, number, units, notebook=True)
