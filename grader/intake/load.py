"""Read a submission file into code units, and find which exercise it is."""
from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.results.escape import shown
from grader.protocol.jobs import Unit

MAX_FILE_BYTES = 50 * 1024 * 1024  # checked before parsing; saved outputs count
MAX_EXERCISE_DIGITS = 4  # a longer number is "no exercise number", never an int() of thousands of digits
MARKER = re.compile(r"^\s*#\s*exercise\s*:\s*(\d{1,%d})\s*$" % MAX_EXERCISE_DIGITS, re.IGNORECASE)
NAME = re.compile(r"exercise\s*_?(\d{1,%d})(?!\d)" % MAX_EXERCISE_DIGITS, re.IGNORECASE)
PSEUDO_FILESYSTEMS = ("/proc", "/sys", "/dev")  # their files claim to be regular but block or never end
_READ_CHUNK = 1 << 20


class Refused(UsageError):
    """The file was not read: a link, not a regular file, outside its folder, or too large."""




def _pseudo_devices() -> set[int]:
    out = set()
    for folder in PSEUDO_FILESYSTEMS:
        try:
            out.add(os.stat(folder).st_dev)
        except OSError:
            pass
    return out


def _real_path(fd: int, path: Path) -> str:
    """Where the open descriptor really is (the kernel's answer where /proc has it)."""
    try:
        return os.readlink(f"/proc/self/fd/{fd}")
    except OSError:
        return os.path.realpath(path)


def _inside(real: str, root: Path) -> bool:
    base = os.path.realpath(root)
    try:
        return os.path.commonpath([real, base]) == base
    except ValueError:
        return False


def _too_large(path: Path) -> Refused:
    hint = ": clear its outputs (Edit > Clear All Outputs) and save" if path.suffix.lower() == ".ipynb" else ""
    return Refused(f"{shown(path.name)} is larger than {MAX_FILE_BYTES // 2**20} MiB{hint}")


def read_bytes(path: Path, root: Path | None = None, limit: int = MAX_FILE_BYTES) -> bytes:
    """The one safe way the judge reads a submission: never through a link, only a regular file
    whose real path is inside `root` (default: its own folder), size-checked on the open
    descriptor before reading, and read with a bound. Refused (a UsageError) otherwise."""
    path = Path(path)
    name = shown(path.name)
    flags = os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_NOCTTY | getattr(os, "O_CLOEXEC", 0)
    try:
        fd = os.open(path, flags)
    except FileNotFoundError:
        raise UsageError(f"no such file: {shown(str(path))}") from None
    except OSError as exc:
        if exc.errno == errno.ELOOP or path.is_symlink():
            raise Refused(f"{name} is a symbolic link: links are not followed") from None
        raise UsageError(f"cannot read {shown(str(path))}: {exc.strerror}") from None
    try:
        info = os.fstat(fd)
        if stat.S_ISDIR(info.st_mode):
            raise UsageError(f"not a file: {shown(str(path))}")
        if not stat.S_ISREG(info.st_mode) or info.st_dev in _pseudo_devices():
            raise Refused(f"{name} is not a regular file (a device, pipe, socket or system file): not read")
        if not _inside(_real_path(fd, path), path.parent if root is None else root):
            raise Refused(f"{name} is outside the submission folder: not read")
        if info.st_size > limit:
            raise _too_large(path)
        chunks, size = [], 0
        while size <= limit:
            try:
                chunk = os.read(fd, min(_READ_CHUNK, limit + 1 - size))
            except BlockingIOError:
                raise Refused(f"{name} blocks when read: not a regular file") from None
            if not chunk:
                break
            chunks.append(chunk)
            size += len(chunk)
        if size > limit:
            raise _too_large(path)
        return b"".join(chunks)
    except OSError as exc:
        raise UsageError(f"cannot read {shown(str(path))}: {exc.strerror or exc}") from None
    finally:
        os.close(fd)


@dataclass(frozen=True)
class Submission:
    """A readable submission: where it came from, its exercise, and the code to run."""

    path: Path
    exercise: int
    units: tuple[Unit, ...]
    notebook: bool = False

    @property
    def name(self) -> str:
        return shown(self.path.name)


def read_text(path: Path, root: Path | None = None) -> str:
    """The file's text (read by `read_bytes`), or a UsageError naming what is wrong with it."""
    try:
        if stat.S_ISDIR(os.lstat(path).st_mode):
            raise UsageError(f"not a file: {shown(str(path))}")
    except FileNotFoundError:
        raise UsageError(f"no such file: {shown(str(path))}") from None
    except OSError:
        pass  # read_bytes says what is wrong
    if path.suffix.lower() not in (".py", ".ipynb"):
        raise UsageError(f"cannot grade {shown(path.name)}: expected a .py file or a .ipynb notebook")
    data = read_bytes(path, root)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UsageError(f"{shown(path.name)} is not UTF-8 text (byte {exc.start})") from None


def exercise_number(path: Path, first_code: str) -> int:
    """From a `# exercise: N` marker in the first 5 lines, else `exerciseN` in the name."""
    for line in first_code.splitlines()[:5]:
        match = MARKER.match(line)
        if match:
            return int(match.group(1))
    match = NAME.search(path.stem)
    if match:
        return int(match.group(1))
    raise UsageError(f"cannot tell which exercise {shown(path.name)} is: name it exerciseN.py "
                     "or put `# exercise: N` in its first lines")


def notebook_cells(path: Path, text: str) -> list[tuple[int, str]]:
    """(cell number, source) of the code cells to run, saved outputs ignored."""
    from grader.intake import notebook

    return notebook.code_cells(path, notebook.parse(path, text))


def read_submission(path: Path | str, root: Path | None = None) -> Submission:
    """Everything needed to grade `path` (inside `root`, default its folder); UsageError if it
    cannot be graded at all (Refused if it was not even read)."""
    path = Path(path)
    text = read_text(path, root)
    name = shown(path.name)  # what tracebacks and reports show: never undecodable bytes
    if path.suffix.lower() == ".py":
        number = exercise_number(path, text)
        return Submission(path, number, (Unit(name, text),))
    cells = notebook_cells(path, text)
    number = exercise_number(path, cells[0][1] if cells else "")
    from grader.intake.cell_syntax import need_ipython, without_leading_blank_lines

    if need_ipython(src for _, src in cells):
        units = tuple(Unit(f"{name} [cell {n}]", src, "ipython") for n, src in cells)
    else:
        units = tuple(Unit(f"{name} [cell {n}]", without_leading_blank_lines(src), "cell") for n, src in cells)
    return Submission(path, number, units, notebook=True)
