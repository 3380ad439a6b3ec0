"""The SQLite gradebook: one row per (student, exercise), committed the moment it is graded."""
from __future__ import annotations

import csv
import hashlib
import json
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

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
"""


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


class Gradebook:
    """A small wrapper over the SQLite file; only the coordinating thread writes."""

    def __init__(self, path: Path) -> None:
        self.db = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None)
        self.db.execute("pragma journal_mode=wal")
        self.db.executescript(SCHEMA)

    def meta(self, name: str) -> str | None:
        row = self.db.execute("select value from meta where name = ?", (name,)).fetchone()
        return row[0] if row else None

    def set_meta(self, name: str, value: str) -> None:
        self.db.execute("insert or replace into meta values (?, ?)", (name, value))

    def key_of(self, student: str, exercise: int) -> str | None:
        row = self.db.execute("select key from results where student = ? and exercise = ?",
                              (_stored(student), exercise)).fetchone()
        return row[0] if row else None

    def put(self, row: Row) -> None:
        """Insert or replace one result, committed at once (autocommit)."""
        self.db.execute("insert or replace into results values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (_stored(row.student), row.exercise, _stored(row.path), row.key, row.status, row.score, row.max_score,
                         json.dumps(row.result), row.graded_at or time.time()))

    def rows(self) -> Iterator[Row]:
        for r in self.db.execute("select * from results order by student, exercise"):
            yield Row(_loaded(r[0]), r[1], _loaded(r[2]), r[3], r[4], r[5], r[6], json.loads(r[7]), r[8])

    def close(self) -> None:
        self.db.close()


def write_csv(rows: list[Row], path: Path) -> None:
    """gradebook.csv: the contract's columns, the status, then one column per check."""
    checks: list[str] = []
    for row in rows:
        for test in row.result.get("tests", []):
            if test["name"] not in checks and not test["name"].startswith("submission:"):
                checks.append(test["name"])
    with open(path, "w", newline="", encoding="utf-8") as fh:
        writer = csv.writer(fh)
        writer.writerow(["student", "exercise", "score", "max_score", "status", *map(csv_cell, checks)])
        for row in rows:
            points = {t["name"]: t["score"] for t in row.result.get("tests", [])}
            writer.writerow([shown(csv_cell(row.student)), f"exercise{row.exercise}", f"{row.score:g}", f"{row.max_score:g}",
                             csv_cell(row.status), *[("" if c not in points else f"{points[c]:g}") for c in checks]])
