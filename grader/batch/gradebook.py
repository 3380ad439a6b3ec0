"""The SQLite gradebook: one row per (student, exercise), committed the moment it is graded."""
from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator

from grader.results.escape import csv_cell, shown

SCHEMA = """
create table if not exists results (
    student text not null,
    exercise integer not null,
    path text not null,
    key text not null,
    status text not null,
    score real not null,
    max_score real not null,
    result text not null,
    graded_at real not null,
    primary key (student, exercise)
);
create table if not exists meta (name text primary key, value text not null);
create table if not exists attempts (
    id integer primary key autoincrement,
    student text not null,
    exercise integer not null,
    content_hash text not null,
    submitted_at real,
    time_source text not null,
    status text not null,
    score real not null,
    max_score real not null,
    grader_version text not null,
    key text not null,
    kind text not null,
    graded_at real not null
);
create index if not exists attempts_by_student on attempts (student, exercise);
create table if not exists overrides (
    id integer primary key autoincrement,
    student text not null,
    exercise integer not null,
    check_name text not null,
    points real not null,
    reason text not null,
    by text not null,
    at real not null,
    base_score real not null,
    review integer not null default 0
);
create table if not exists roster (
    student text primary key,
    name text not null,
    email text not null,
    lms_id text not null,
    section text not null
);
"""
# columns added after the first release: (name, declaration); an older OUT gets them on open
ADDED_COLUMNS = (("submitted_at", "real"), ("time_source", "text not null default ''"),
                 ("content_hash", "text not null default ''"), ("late", "integer not null default 0"))
COLUMNS = ("student", "exercise", "path", "key", "status", "score", "max_score", "result", "graded_at",
           *(name for name, _ in ADDED_COLUMNS))
# attempt kinds: a file graded for the first time, a new version of it, the same bytes graded again
FIRST, NEW_VERSION, REGRADE = "first", "new version", "regrade"


@dataclass(frozen=True)
class Row:
    student: str
    exercise: int
    path: str
    key: str
    status: str
    score: float
    max_score: float
    result: dict[str, Any]
    graded_at: float
    submitted_at: float | None = None
    time_source: str = ""
    content_hash: str = ""
    late: bool = False  # the LMS marked it late


@dataclass(frozen=True)
class Attempt:
    """One graded version of a student's file, never overwritten."""

    id: int
    student: str
    exercise: int
    content_hash: str
    submitted_at: float | None
    time_source: str
    status: str
    score: float
    max_score: float
    grader_version: str
    kind: str  # FIRST, NEW_VERSION or REGRADE
    graded_at: float


def with_diagnoses(data: dict[str, Any], result: Any) -> dict[str, Any]:
    """results.json data with each failed test's diagnosis as data: `diagnosis` (the text shown)
    and `diagnosis_code` (diagnose.code of it, or of the failure's summary when there is none)."""
    from grader.exercises.diagnose import code

    failures = {c.test_name: c.failure for c in result.checks if c.failure is not None}
    tests = []
    for test in data.get("tests", []):
        failure = failures.get(test["name"])
        if failure is not None:
            text = failure.diagnosis or failure.summary
            test = test | {"diagnosis": text, "diagnosis_code": code(text)}
        tests.append(test)
    return data | {"tests": tests}


def content_key(data: bytes, spec_hash: str, version: str, seed: int, options: str = "") -> str:
    """What a stored result depends on: the file, the exercise's checks and the grader's code
    (`spec_hash`), the grader's version, the seed and the other options."""
    h = hashlib.sha256()
    for part in (hashlib.sha256(data).hexdigest(), spec_hash, version, str(seed), options):
        h.update(part.encode() + b"\0")
    return h.hexdigest()


def _stored(name: str) -> str | bytes:
    """A name as SQLite keeps it losslessly: text when it is valid UTF-8, else its raw bytes (a blob)."""
    try:
        name.encode("utf-8")
        return name
    except UnicodeEncodeError:  # undecodable bytes of a file name, kept by surrogateescape
        return name.encode("utf-8", "surrogateescape")


def _loaded(value: str | bytes) -> str:
    return value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value


def _create(path: Path) -> None:
    """A new gradebook appears whole: its tables are made in a temporary file renamed into place,
    so a reader (or a second run) never finds a gradebook without its tables."""
    import os

    tmp = path.with_name(f".{path.name}.{os.getpid()}.new")
    db = sqlite3.connect(str(tmp), isolation_level=None)
    try:
        db.executescript(SCHEMA)
    finally:
        db.close()
    try:
        os.link(tmp, path)  # never replaces a gradebook another run has just made
    except FileExistsError:
        pass
    except OSError:  # a filesystem without hard links
        if not path.exists():
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


class Gradebook:
    """A small wrapper over the SQLite file; only the coordinating thread writes."""

    def __init__(self, path: Path) -> None:
        if not path.exists():
            _create(path)
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.execute("pragma journal_mode=wal")
        # WAL with synchronous=NORMAL: a commit is not fsynced (the WAL is, at each checkpoint).
        # A crash of the grader, or a kill, loses nothing (the OS has the write); only a power
        # cut can drop the last commits, never corrupt the file, and a resumed batch re-grades
        # the rows that are missing. No fsync per student (~2 ms each).
        self.db.execute("pragma synchronous=normal")
        self.db.executescript(SCHEMA)
        have = {r[1] for r in self.db.execute("pragma table_info(results)")}
        for name, declaration in ADDED_COLUMNS:  # migration: an OUT made by an older grader still opens
            if name not in have:
                self.db.execute(f"alter table results add column {name} {declaration}")

    def meta(self, name: str) -> str | None:
        row = self.db.execute("select value from meta where name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_meta(self, name: str, value: str) -> None:
        self.db.execute("insert or replace into meta values (?, ?)", (name, value))

    def key_of(self, student: str, exercise: int) -> str | None:
        row = self.db.execute("select key from results where student = ? and exercise = ?",
                              (_stored(student), exercise)).fetchone()
        return row[0] if row else None

    def put(self, row: Row, version: str = "") -> None:
        """Insert or replace one result and record it as an attempt, in one transaction; an
        override whose underlying score this changes is flagged for review."""
        student = _stored(row.student)
        values = (student, row.exercise, _stored(row.path), row.key, row.status, row.score, row.max_score,
                  json.dumps(row.result), row.graded_at or time.time(), row.submitted_at, row.time_source,
                  row.content_hash, int(row.late))
        self.db.execute("begin immediate")
        try:
            old = self.db.execute("select content_hash from results where student = ? and exercise = ?",
                                  (student, row.exercise)).fetchone()
            self.db.execute(f"insert or replace into results ({', '.join(COLUMNS)}) "
                            f"values ({', '.join('?' * len(COLUMNS))})", values)
            if row.key:  # an empty key is a storage failure, retried by the next run: not an attempt
                kind = FIRST if old is None else REGRADE if old[0] == row.content_hash and row.content_hash else NEW_VERSION
                self.db.execute("insert into attempts (student, exercise, content_hash, submitted_at, time_source, "
                                "status, score, max_score, grader_version, key, kind, graded_at) "
                                "values (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                                (student, row.exercise, row.content_hash, row.submitted_at, row.time_source,
                                 row.status, row.score, row.max_score, version, row.key, kind, values[8]))
            self.db.execute("update overrides set review = 1 where student = ? and exercise = ? and base_score != ?",
                            (student, row.exercise, row.score))
            self.db.execute("commit")
        except BaseException:
            self.db.execute("rollback")
            raise

    def rows(self) -> Iterator[Row]:
        for r in self.db.execute(f"select {', '.join(COLUMNS)} from results order by student, exercise"):
            yield Row(_loaded(r[0]), r[1], _loaded(r[2]), r[3], r[4], r[5], r[6], json.loads(r[7]), r[8],
                      r[9], r[10] or "", r[11] or "", bool(r[12]))

    def attempts(self, student: str, exercise: int | None = None) -> list[Attempt]:
        query = "select * from attempts where student = ?" + (" and exercise = ?" if exercise is not None else "")
        args = (_stored(student),) + ((exercise,) if exercise is not None else ())
        return [Attempt(r[0], _loaded(r[1]), r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[11], r[12])
                for r in self.db.execute(query + " order by exercise, id", args)]

    def set_roster(self, students: Iterable[Any]) -> None:
        """Replace the stored roster (grader.intake.roster.Student records)."""
        self.db.execute("begin immediate")
        self.db.execute("delete from roster")
        self.db.executemany("insert into roster values (?, ?, ?, ?, ?)",
                            [(_stored(s.student), s.name, s.email, s.lms_id, s.section) for s in students])
        self.db.execute("commit")

    def roster(self) -> Any:
        from grader.intake.roster import Roster, Student

        return Roster(tuple(Student(_loaded(r[0]), *r[1:]) for r in
                            self.db.execute("select student, name, email, lms_id, section from roster order by student")))

    def close(self) -> None:
        self.db.close()


TERM_COLUMNS = ("raw_score", "penalty", "late_days", "submitted_at", "time_source", "override", "on_roster")


def utc(seconds: float | None) -> str:
    """A time as ISO 8601 in UTC ('' for none)."""
    import datetime as dt

    if seconds is None:
        return ""
    return dt.datetime.fromtimestamp(seconds, dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def write_csv(rows: list[Row], path: Path, marks: dict[tuple[str, int], Any] | None = None,
              roster: set[str] | None = None) -> None:
    """gradebook.csv: the contract's columns (`score` is the final score), the status, one column
    per check, then the term's: raw score, late penalty, days late, submission time and its
    source, the override in force, whether the student is on the roster."""
    checks: list[str] = []
    for row in rows:
        for test in row.result.get("tests", []):
            if test["name"] not in checks and not test["name"].startswith("submission:"):
                checks.append(test["name"])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "exercise", "score", "max_score", "status", *map(csv_cell, checks), *TERM_COLUMNS])
        for row in rows:
            points = {t["name"]: t["score"] for t in row.result.get("tests", [])}
            m = (marks or {}).get((row.student, row.exercise))
            final, penalty, days = (m.final, m.penalty, m.late.days) if m is not None else (row.score, 0.0, 0)
            override = "; ".join(f"{o.check or 'score'} = {o.points:g}{' (review)' if o.review else ''}"
                                 for o in (m.overrides if m is not None else ()))
            listed = "" if roster is None or not roster else ("yes" if row.student in roster else "no")
            writer.writerow([shown(csv_cell(row.student)), f"exercise{row.exercise}", f"{final:g}", f"{row.max_score:g}",
                             csv_cell(row.status), *[("" if c not in points else f"{points[c]:g}") for c in checks],
                             f"{(m.raw if m is not None else row.score):g}", f"{penalty:g}", days,
                             utc(row.submitted_at), csv_cell(row.time_source), csv_cell(override), listed])
