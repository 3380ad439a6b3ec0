"""Committing one graded submission: its gradebook row and its reports, as it arrives."""
from __future__ import annotations

import hashlib
import sys
import time
from pathlib import Path

from grader import __version__
from grader.batch import gradebook
from grader.batch.grading import Outcome
from grader.intake import discover, load


def row_of(entry: discover.Entry, key: str, outcome: Outcome) -> gradebook.Row:
    """The gradebook row of one outcome (one that could not be graded: an 'error' row)."""
    from grader.results import gradescope
    from grader.exercises.spec import load_exercise

    term = (entry.submitted_at, entry.time_source, content_hash(entry), entry.late)
    if outcome.result is not None:
        totals = outcome.result.totals
        data = gradebook.with_diagnoses(gradescope.results(outcome.result), outcome.result)
        return gradebook.Row(entry.student, entry.exercise, str(entry.path), key, outcome.status,
                             totals.score, totals.max_score, data, time.time(), *term)
    try:
        full = load_exercise(entry.exercise).max_score
    except LookupError:
        full = 0.0
    data = gradescope.failure_results(f"Could not grade: {outcome.message}") | {"max_score": full}
    return gradebook.Row(entry.student, entry.exercise, str(entry.path), key, "error", 0.0, full, data, time.time(),
                         *term)


def content_hash(entry: discover.Entry) -> str:
    """The hash of the submission's bytes, recorded with the attempt."""
    try:
        return hashlib.sha256(load.read_bytes(entry.path, entry.root)).hexdigest()
    except Exception:  # unreadable now: the attempt is still recorded
        return ""


def commit(book: gradebook.Gradebook, entry: discover.Entry, key: str, outcome: Outcome, out: Path,
           keep_executed: bool) -> Outcome:
    """Store one result and write its reports; a failure here becomes that file's 'error' row."""
    try:
        _store(book, entry, key, outcome, out, keep_executed)
        return outcome
    except Exception as exc:  # one file never stops a batch
        failed = Outcome("error", message=f"its result could not be stored: {type(exc).__name__}: {str(exc)[:200]}")
    try:
        _store(book, entry, "", failed, out, False)  # an empty key: a rerun retries it
    except Exception as exc:
        print(f"grade batch: {load.shown(entry.student)} exercise{entry.exercise}: could not be stored "
              f"({type(exc).__name__}: {str(exc)[:200]})", file=sys.stderr)
    return failed


def _store(book: gradebook.Gradebook, entry: discover.Entry, key: str, outcome: Outcome, out: Path,
           keep_executed: bool) -> None:
    from grader.batch import summary as classreport

    row = row_of(entry, key, outcome)
    classreport.write_submission_reports(out / "reports", entry.student, entry.exercise, outcome.result, row.result)
    if keep_executed and outcome.result is not None and entry.path.suffix.lower() == ".ipynb":
        from grader.results.executed import write_executed

        write_executed(entry.path, outcome.result, classreport.report_dir(out / "executed", entry.student)
                       / f"exercise{entry.exercise}.ipynb")
    book.put(row, __version__)  # committed: a rerun will not grade this one again
