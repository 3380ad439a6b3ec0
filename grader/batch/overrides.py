"""Instructor overrides, and the one place a stored result becomes a final mark.

`grade override OUT STUDENT EXERCISE (--score X | --check NAME --points X) --reason TEXT`
stores who, when and why; the latest override of a (student, exercise, check) wins.
`--check` replaces one check's points before the late penalty; `--score` sets the final score.
A regrade that changes the underlying score flags the override for review (gradebook.put).
"""
from __future__ import annotations

import argparse
import getpass
import os
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

from grader.batch import gradebook, policy as policies
from grader.errors import UsageError
from grader.results.escape import shown

WHOLE = ""  # check_name of an override of the whole score
MISSING = "missing"


@dataclass(frozen=True)
class Override:
    id: int
    student: str
    exercise: int
    check: str  # WHOLE or a check's test name
    points: float
    reason: str
    by: str
    at: float
    base_score: float  # the underlying (raw) score when it was made
    review: bool  # a later regrade changed the underlying score


@dataclass(frozen=True)
class Mark:
    """One student's standing on one exercise: raw score, penalty, overrides, final."""

    student: str
    exercise: int
    status: str  # passed, failed, error or missing
    raw: float
    max_score: float
    penalty: float
    final: float
    late: policies.Late
    submitted_at: float | None
    time_source: str
    overrides: tuple[Override, ...]

    @property
    def review(self) -> bool:
        return any(o.review for o in self.overrides)


def stored(book: gradebook.Gradebook, student: str | None = None) -> list[Override]:
    query = "select * from overrides" + (" where student = ?" if student is not None else "") + " order by id"
    rows = book.db.execute(query, (gradebook._stored(student),) if student is not None else ())
    return [Override(r[0], gradebook._loaded(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8], bool(r[9])) for r in rows]


def current(overrides: Iterable[Override]) -> dict[tuple[str, int], tuple[Override, ...]]:
    """The override in force for each (student, exercise, check): the latest one."""
    latest: dict[tuple[str, int, str], Override] = {}
    for o in overrides:
        latest[(o.student, o.exercise, o.check)] = o
    out: dict[tuple[str, int], list[Override]] = {}
    for (student, exercise, _), o in sorted(latest.items()):
        out.setdefault((student, exercise), []).append(o)
    return {k: tuple(v) for k, v in out.items()}


def mark(row: gradebook.Row, policy: policies.Policy, overrides: Sequence[Override] = ()) -> Mark:
    raw = row.score
    points = {t["name"]: float(t["score"]) for t in row.result.get("tests", [])}
    for o in overrides:
        if o.check != WHOLE:
            raw += o.points - points.get(o.check, 0.0)
    raw = max(0.0, raw)
    late = (policy.late(row.student, row.exercise, row.submitted_at, row.late)
            if row.status != MISSING else policies.ON_TIME)
    penalty = round(raw * late.fraction, 6)
    final = raw - penalty
    whole = [o for o in overrides if o.check == WHOLE]
    if whole:
        final = whole[-1].points
    return Mark(row.student, row.exercise, row.status, raw, row.max_score, penalty, round(final, 6), late,
                row.submitted_at, row.time_source, tuple(overrides))


def missing_rows(rows: list[gradebook.Row], students: Iterable[str],
                 exercises: dict[int, float]) -> list[gradebook.Row]:
    """A `missing` row (score 0) for every roster student without a result for an exercise."""
    have = {(r.student, r.exercise) for r in rows}
    return [gradebook.Row(s, ex, "", "", MISSING, 0.0, full, {"tests": []}, 0.0)
            for s in sorted(students) for ex, full in sorted(exercises.items()) if (s, ex) not in have]


def exercises_of(rows: list[gradebook.Row], policy: policies.Policy) -> dict[int, float]:
    """The class's exercises (graded ones and those with a deadline) -> full marks."""
    from grader.exercises.spec import load_exercise

    full = {r.exercise: max(r.max_score, 0.0) for r in rows}
    for ex in policy.deadlines:
        if ex not in full:
            try:
                full[ex] = load_exercise(ex).max_score
            except LookupError:
                continue
    return full


def stored_policy(book: gradebook.Gradebook) -> policies.Policy:
    text = book.meta("policy")
    return policies.parse(text, "the course policy kept in the gradebook") if text else policies.NONE


def standing(book: gradebook.Gradebook) -> list[tuple[gradebook.Row, Mark]]:
    """Every student's row and mark on every exercise, missing work included, from the gradebook alone."""
    rows = list(book.rows())
    policy = stored_policy(book)
    rows += missing_rows(rows, book.roster().ids(), exercises_of(rows, policy))
    now = current(stored(book))
    return sorted(((r, mark(r, policy, now.get((r.student, r.exercise), ()))) for r in rows),
                  key=lambda pair: (pair[0].student, pair[0].exercise))


# ------------------------------------------------------------------ grade override

def parser() -> argparse.ArgumentParser:
    from grader.cli.options import Parser as _Parser

    p = _Parser(prog="grade override", description="Override a score, with a reason that survives regrades.")
    p.add_argument("out", type=Path, help="the OUT folder of `grade batch`")
    p.add_argument("student")
    p.add_argument("exercise", help="exercise3 or 3")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--score", type=float, help="the final score")
    what.add_argument("--check", metavar="NAME", help="the check whose points change (its test name)")
    p.add_argument("--points", type=float, help="the check's points (with --check)")
    p.add_argument("--reason", required=True)
    p.add_argument("--by", default=None, help="who (default: $USER)")
    return p


def exercise_number(text: str) -> int:
    digits = text.lower().removeprefix("exercise")
    if not digits.isdigit() or len(digits) > 3:
        raise UsageError(f"not an exercise: {shown(text)[:40]} (expected exercise3 or 3)")
    return int(digits)


def open_book(out: Path) -> gradebook.Gradebook:
    path = out / "gradebook.sqlite"
    if not path.is_file():
        raise UsageError(f"no gradebook in {shown(str(out))}: run `grade batch DIR --out {shown(str(out))}` first")
    return gradebook.Gradebook(path)


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    exercise = exercise_number(args.exercise)
    if (args.check is None) != (args.points is None):
        raise UsageError("--check NAME goes with --points X")
    points = args.score if args.score is not None else args.points
    if not (0 <= points < 1e9):
        raise UsageError("the score must be a non-negative number")
    if not args.reason.strip():
        raise UsageError("--reason must say why")
    by = args.by or os.environ.get("USER") or getpass.getuser()
    book = open_book(args.out)
    try:
        rows = {(r.student, r.exercise): r for r in book.rows()}
        row = rows.get((args.student, exercise))
        if row is None and args.student not in book.roster().ids():
            raise UsageError(f"{shown(args.student)} has no result for exercise {exercise} and is not on the roster")
        if args.check is not None:
            names = [t["name"] for t in (row.result.get("tests", []) if row else [])]
            full = {t["name"]: float(t.get("max_score", 0.0)) for t in row.result.get("tests", [])} if row else {}
            if args.check in full and points > full[args.check]:
                raise UsageError(f"--points {points:g} is more than the check's {full[args.check]:g} points")
            if args.check not in names:
                raise UsageError(f"exercise {exercise} of {shown(args.student)} has no check named "
                                 f"{shown(args.check)[:80]}" + (f" (checks: {'; '.join(names)})" if names else ""))
        book.db.execute("insert into overrides (student, exercise, check_name, points, reason, by, at, base_score) "
                        "values (?, ?, ?, ?, ?, ?, ?, ?)",
                        (gradebook._stored(args.student), exercise, args.check or WHOLE, points, args.reason, by,
                         time.time(), row.score if row else 0.0))
        refresh(args.out, book)
    finally:
        book.close()
    print(f"grade override: {shown(args.student)} exercise{exercise}"
          f"{' ' + shown(args.check) if args.check else ''} = {points:g} (by {shown(by)})", file=sys.stderr)
    return 0


def refresh(out: Path, book: gradebook.Gradebook) -> None:
    """Rewrite gradebook.csv and the class summary from the gradebook (after an override)."""
    from grader.batch import summary

    summary.write_outputs(out, book)
