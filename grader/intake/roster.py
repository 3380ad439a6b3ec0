"""A class roster (`--roster roster.csv`): who should have submitted, and how LMS ids map to them.

Columns: `student` (the submission folder, or the id an LMS download names), then optionally
`name`, `email`, `lms_id`, `section`. Other columns are ignored.
"""
from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from pathlib import Path

from grader.errors import UsageError
from grader.results.escape import shown

COLUMNS = ("student", "name", "email", "lms_id", "section")
MAX_BYTES = 16 * 1024 * 1024


@dataclass(frozen=True)
class Student:
    student: str
    name: str = ""
    email: str = ""
    lms_id: str = ""
    section: str = ""


@dataclass(frozen=True)
class Roster:
    students: tuple[Student, ...]

    def ids(self) -> set[str]:
        return {s.student for s in self.students}

    def by_id(self) -> dict[str, Student]:
        return {s.student: s for s in self.students}

    def aliases(self) -> dict[str, str]:
        """Every other name a student is known by (LMS id, email) -> the roster's `student`."""
        out: dict[str, str] = {}
        for s in self.students:
            for alias in (s.lms_id, s.email, s.email.lower()):
                if alias and alias != s.student:
                    out.setdefault(alias, s.student)
        return out

    def resolve(self, name: str) -> str:
        """The roster's id for `name` (itself, an LMS id or an e-mail address), else `name`."""
        if name in self.ids():
            return name
        aliases = self.aliases()
        return aliases.get(name, aliases.get(name.lower(), name))


EMPTY = Roster(())


def parse(text: str, where: str = "roster") -> Roster:
    """The roster in CSV `text`; UsageError (one line) when it is not a roster."""
    reader = csv.DictReader(io.StringIO(text))
    header = [(h or "").strip().lower() for h in (reader.fieldnames or [])]
    if "student" not in header:
        raise UsageError(f"{where}: no `student` column (expected columns {', '.join(COLUMNS)})")
    reader.fieldnames = header
    seen: set[str] = set()
    students = []
    for number, record in enumerate(reader, start=2):
        values = {c: (record.get(c) or "").strip() for c in COLUMNS}
        if not values["student"]:
            if any(values.values()):
                raise UsageError(f"{where}, line {number}: empty `student`")
            continue
        if values["student"] in seen:
            raise UsageError(f"{where}, line {number}: student {shown(values['student'])} is listed twice")
        seen.add(values["student"])
        students.append(Student(**values))
    return Roster(tuple(students))


def read(path: Path) -> Roster:
    try:
        if path.stat().st_size > MAX_BYTES:
            raise UsageError(f"{shown(str(path))}: a roster larger than {MAX_BYTES // 2**20} MB")
        text = path.read_bytes().decode("utf-8-sig")
    except OSError as exc:
        raise UsageError(f"cannot read the roster {shown(str(path))}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the roster {shown(str(path))} is not UTF-8 text") from None
    except csv.Error as exc:
        raise UsageError(f"the roster {shown(str(path))} is not valid CSV: {exc}") from None
    try:
        return parse(text, shown(str(path)))
    except csv.Error as exc:
        raise UsageError(f"the roster {shown(str(path))} is not valid CSV: {exc}") from None
