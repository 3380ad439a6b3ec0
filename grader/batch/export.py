"""`grade export OUT --format canvas|moodle|csv --to FILE`: the term's grades for an LMS.

One row per student (the roster's and everyone graded), one column per exercise holding the
final score (late penalties and overrides applied, 0 for missing work) and a total.

- `canvas`: Canvas's gradebook import layout: `Student`, `ID`, `SIS User ID`, `SIS Login ID`,
  `Section`, one column per assignment, then `Final Points` (read-only in Canvas, so it is not
  imported as an assignment); the second row is `Points Possible`. `ID` is the roster's `lms_id`
  (the Canvas user id).
- `moodle`: Moodle's CSV grade import: `Full name`, `ID number` (the roster's `lms_id`), `Email
  address`, one column per grade item, `Course total`; map the identifier to `ID number` or
  `Email address` when importing.
- `csv`: a plain wide table: `student`, `name`, `email`, `lms_id`, `section`, one column per
  exercise, `total`, `max_total`.
Every text cell goes through escape.csv_cell, so none starts a spreadsheet formula.
"""
from __future__ import annotations

import argparse
import csv
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from grader.batch import overrides
from grader.errors import UsageError
from grader.intake.roster import Student
from grader.results.escape import csv_cell, shown

FORMATS = ("canvas", "moodle", "csv")


@dataclass(frozen=True)
class Sheet:
    """The term's grades: exercises (with full marks) and per student the final score of each."""

    exercises: tuple[tuple[int, float], ...]
    students: tuple[Student, ...]
    finals: dict[tuple[str, int], float]

    def total(self, student: str) -> float:
        return round(sum(self.finals.get((student, ex), 0.0) for ex, _ in self.exercises), 6)

    def cells(self, student: str) -> list[str]:
        return [_num(self.finals.get((student, ex), 0.0)) for ex, _ in self.exercises]


def _num(x: float) -> str:
    return f"{x:g}"


def sheet(book: object) -> Sheet:
    pairs = overrides.standing(book)  # type: ignore[arg-type]
    full: dict[int, float] = {}
    for row, _ in pairs:
        full[row.exercise] = max(full.get(row.exercise, 0.0), row.max_score)
    known = book.roster().by_id()  # type: ignore[attr-defined]
    names = sorted({r.student for r, _ in pairs} | set(known))
    return Sheet(tuple(sorted(full.items())), tuple(known.get(n, Student(n)) for n in names),
                 {(r.student, r.exercise): m.final for r, m in pairs})


def rows(s: Sheet, fmt: str) -> list[list[object]]:
    titles = [f"exercise{ex}" for ex, _ in s.exercises]
    if fmt == "canvas":
        out: list[list[object]] = [["Student", "ID", "SIS User ID", "SIS Login ID", "Section", *titles, "Final Points"],
                                   ["Points Possible", "", "", "", "", *[_num(f) for _, f in s.exercises],
                                    _num(sum(f for _, f in s.exercises))]]
        out += [[p.name or p.student, p.lms_id, "", "", p.section, *s.cells(p.student), _num(s.total(p.student))]
                for p in s.students]
    elif fmt == "moodle":
        out = [["Full name", "ID number", "Email address", *titles, "Course total"]]
        out += [[p.name or p.student, p.lms_id, p.email, *s.cells(p.student), _num(s.total(p.student))]
                for p in s.students]
    else:
        out = [["student", "name", "email", "lms_id", "section", *titles, "total", "max_total"]]
        out += [[p.student, p.name, p.email, p.lms_id, p.section, *s.cells(p.student), _num(s.total(p.student)),
                 _num(sum(f for _, f in s.exercises))] for p in s.students]
    return out


def write(path: Path, table: list[list[object]]) -> None:
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        for line in table:
            writer.writerow([csv_cell(shown(c)) if isinstance(c, str) else c for c in line])


def unmatched(s: Sheet, fmt: str) -> list[str]:
    """Students the LMS cannot match: no `lms_id` for Canvas, neither id nor e-mail for Moodle."""
    if fmt == "canvas":
        return [p.student for p in s.students if not p.lms_id]
    if fmt == "moodle":
        return [p.student for p in s.students if not p.lms_id and not p.email]
    return []


def parser() -> argparse.ArgumentParser:
    from grader.cli.options import Parser as _Parser

    p = _Parser(prog="grade export", description="Write the term's grades for an LMS.")
    p.add_argument("out", type=Path, help="the OUT folder of `grade batch`")
    p.add_argument("--format", choices=FORMATS, required=True)
    p.add_argument("--to", type=Path, required=True, metavar="FILE")
    return p


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    book = overrides.open_book(args.out)
    try:
        s = sheet(book)
    finally:
        book.close()
    try:
        write(args.to, rows(s, args.format))
    except OSError as exc:
        raise UsageError(f"cannot write {shown(str(args.to))}: {exc.strerror or exc}") from None
    lost = unmatched(s, args.format)
    print(f"grade export: {len(s.students)} students, {len(s.exercises)} exercises -> {shown(str(args.to))}",
          file=sys.stderr)
    if lost:
        print(f"grade export: {len(lost)} student(s) without an id the LMS can match (add lms_id/email to the "
              f"roster): {', '.join(shown(x) for x in lost[:10])}{' …' if len(lost) > 10 else ''}", file=sys.stderr)
    return 0
