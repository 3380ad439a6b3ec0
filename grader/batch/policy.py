"""The course's late policy, and the course inputs a batch is given (policy and roster).

The late policy (`course.toml` beside the submissions, or `--policy FILE`).

    [deadlines]                 # per exercise; a TOML date-time, or a string in ISO 8601
    exercise1 = 2026-09-15T23:59:00Z
    [penalty]
    per_day = 0.10              # fraction of the score taken per started day late
    cap = 0.50                  # never more than this fraction
    cutoff_days = 7             # later than this many days: no credit (omit: none)
    grace_minutes = 0
    [extensions.alice]          # per student: days added, or a new deadline; `all` for every exercise
    exercise1 = 2
    all = 1
"""
from __future__ import annotations

import datetime as dt
import math
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from grader.errors import UsageError
from grader.intake import load
from grader.results.escape import shown

DAY = 86400.0
FILE = "course.toml"


@dataclass(frozen=True)
class Late:
    """How late one submission was and what it costs."""

    days: int = 0  # started days after the (extended) deadline; 0: on time
    fraction: float = 0.0  # of the score taken away
    after_cutoff: bool = False
    deadline: float | None = None


ON_TIME = Late()


@dataclass(frozen=True)
class Policy:
    deadlines: Mapping[int, float] = field(default_factory=dict)
    per_day: float = 0.0
    cap: float = 1.0
    cutoff_days: float | None = None
    grace: float = 0.0  # seconds
    extensions: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)  # student -> exercise/all -> days|time
    text: str = ""  # the TOML it came from (kept in the gradebook)

    def deadline(self, student: str, exercise: int) -> float | None:
        base = self.deadlines.get(exercise)
        if base is None:
            return None
        extra = self.extensions.get(student, {})
        for name in (f"exercise{exercise}", "all"):
            if name in extra:
                value = extra[name]
                return base + float(value) * DAY if isinstance(value, (int, float)) else float(value)
        return base

    def late(self, student: str, exercise: int, submitted_at: float | None, marked_late: bool = False) -> Late:
        """The penalty for a submission at `submitted_at` (Canvas's late marker counts as at least a day)."""
        deadline = self.deadline(student, exercise)
        if deadline is None or submitted_at is None:
            return ON_TIME
        seconds = submitted_at - deadline - self.grace
        days = max(0, math.ceil(seconds / DAY)) if seconds > 0 else 0
        if marked_late and days == 0 and self.extensions.get(student) is None:
            days = 1
        if days == 0:
            return Late(0, 0.0, False, deadline)
        if self.cutoff_days is not None and seconds > self.cutoff_days * DAY:
            return Late(days, 1.0, True, deadline)
        return Late(days, min(self.cap, self.per_day * days), False, deadline)


NONE = Policy()


def _time(value: Any, where: str) -> float:
    if isinstance(value, dt.datetime):
        return (value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)).timestamp()
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, 23, 59, 59, tzinfo=dt.timezone.utc).timestamp()
    if isinstance(value, str):
        try:
            return _time(dt.datetime.fromisoformat(value.replace("Z", "+00:00")), where)
        except ValueError:
            pass
    raise UsageError(f"{where}: expected a date-time such as 2026-09-15T23:59:00Z, got {shown(str(value))[:80]}")


def _number(value: Any, where: str, low: float = 0.0, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not (low <= value <= high):
        raise UsageError(f"{where}: expected a number from {low:g} to {high:g}")
    return float(value)


def parse(text: str, where: str = FILE) -> Policy:
    """The policy in TOML `text`; UsageError (one line) on anything it cannot use."""
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise UsageError(f"{where} is not valid TOML: {exc}") from None
    deadlines = {}
    for name, value in (data.get("deadlines") or {}).items():
        number = load.NAME.fullmatch(name)
        if number is None:
            raise UsageError(f"{where}: [deadlines] keys are exercise names (exercise3), got {shown(name)[:40]}")
        deadlines[int(number.group(1))] = _time(value, f"{where}: deadlines.{name}")
    penalty = data.get("penalty") or {}
    extensions: dict[str, dict[str, Any]] = {}
    for student, given in (data.get("extensions") or {}).items():
        if not isinstance(given, dict):
            raise UsageError(f"{where}: extensions.{shown(student)[:40]} must be a table (exercise1 = 2)")
        extensions[student] = {k: (_number(v, f"{where}: extensions.{shown(student)[:40]}.{k}", 0, 3650)
                                   if isinstance(v, (int, float)) else _time(v, f"{where}: extensions.{k}"))
                               for k, v in given.items()}
    cutoff = penalty.get("cutoff_days")
    return Policy(deadlines, _number(penalty.get("per_day", 0.0), f"{where}: penalty.per_day", 0, 1),
                  _number(penalty.get("cap", 1.0), f"{where}: penalty.cap", 0, 1),
                  None if cutoff is None else _number(cutoff, f"{where}: penalty.cutoff_days", 0),
                  60 * _number(penalty.get("grace_minutes", 0), f"{where}: penalty.grace_minutes", 0),
                  extensions, text)


def read(path: Path) -> Policy:
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise UsageError(f"cannot read the course policy {shown(str(path))}: {exc.strerror or exc}") from None
    except UnicodeDecodeError:
        raise UsageError(f"the course policy {shown(str(path))} is not UTF-8 text") from None
    return parse(text, shown(str(path)))


def find(submissions: Path, given: Path | None) -> Policy | None:
    """`--policy FILE`, else DIR/course.toml, else None (keep the one stored in the gradebook)."""
    if given is not None:
        return read(given)
    beside = submissions / FILE
    return read(beside) if beside.is_file() and not beside.is_symlink() else None


@dataclass(frozen=True)
class CourseInputs:
    """The roster and late policy given to one run (None: keep the ones the gradebook has)."""

    roster: Any = None  # grader.intake.roster.Roster
    policy: Policy | None = None
    names: Any = None  # the roster that maps LMS ids and e-mails: the given one, else the stored one


def course_inputs(submissions: Path, out: Path, roster_file: Path | None, policy_file: Path | None) -> CourseInputs:
    """Read `--roster` and `--policy` (or DIR/course.toml); UsageError (one line) when unusable."""
    from grader.intake import roster

    given = roster.read(roster_file) if roster_file is not None else None
    return CourseInputs(given, find(submissions, policy_file) if submissions.is_dir() else None,
                        given if given is not None else _stored_roster(out))


def _stored_roster(out: Path) -> Any:
    """The roster an earlier run kept (it maps LMS ids to students in this run too)."""
    from grader.batch import gradebook

    path = out / "gradebook.sqlite"
    if not path.is_file():
        return None
    book = gradebook.Gradebook(path)
    try:
        stored = book.roster()
    finally:
        book.close()
    return stored if stored.students else None


def keep(book: Any, course: CourseInputs) -> None:
    """Store what this run was given in the gradebook, for exports, overrides and later runs."""
    if course.roster is not None:
        book.set_roster(course.roster.students)
    if course.policy is not None:
        book.set_meta("policy", course.policy.text)
