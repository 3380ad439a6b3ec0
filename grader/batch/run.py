"""`grade batch DIR --out OUT`: a class at a time, in parallel, resumable, into a gradebook.

Every result is committed to `OUT/gradebook.sqlite` the moment it is graded, keyed by
everything that can change its verdict: the submission's content, the grader's own source and
version, the exercise's files, and the options (seed, device, timeout); a rerun grades only
what is missing or changed. `OUT/gradebook.csv`, one report per submission, the class summary
and `OUT/batch.json` (what this run graded, reused, regraded, failed and skipped) are written
from the whole gradebook at the end. One file never stops a batch: whatever goes wrong while
reading, hashing, grading or committing it becomes that file's status.

With `--scheduler`, submissions are graded on a Dask cluster (`executors_dask`): each task
carries the submission's bytes (a `Shipment`), so workers need no shared filesystem. The key
and what a rerun grades are `cache`, grading one submission `grading`, committing it `store`.
"""
from __future__ import annotations

import argparse
import json
import os
import secrets
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

from grader.intake import discover
from grader.batch import cache, gradebook, grading, store
from grader.batch.cache import Settings
from grader.intake import load
from grader.cli.options import Parser, add_common, check_options
from grader.errors import UsageError

EXIT_ALL_GRADED, EXIT_SOME_NOT_GRADED = 0, 1
# the huge pages' collapse costs the warm parent about 0.4 s of CPU once and saves 10-20 ms per submission
HUGE_PAGES_FROM = 30


@dataclass(frozen=True)
class Counts:
    """What one run did, written to OUT/batch.json and printed in one line."""

    graded: int  # graded for the first time
    reused: int  # taken from the gradebook (nothing that can change the verdict changed)
    regraded: int  # graded again: the file, the grader, the exercise or an option changed (or --force)
    failed: int  # could not be graded in this run (status "error")
    skipped: int  # files passed over, each with its reason in skipped.txt
    seed: int

    def line(self) -> str:
        return (f"grade batch: graded {self.graded}, reused {self.reused}, regraded {self.regraded}, "
                f"failed {self.failed}, skipped {self.skipped}; seed {self.seed}")


def parser() -> argparse.ArgumentParser:
    p = Parser(prog="grade batch", description="Grade a class: DIR/<student>/exerciseN.(py|ipynb).")
    p.add_argument("dir", type=Path)
    p.add_argument("--out", type=Path, required=True, help="folder for the gradebook and the reports")
    p.add_argument("--jobs", type=int, default=os.cpu_count() or 1, help="submissions graded at once")
    p.add_argument("--force", action="store_true", help="regrade everything")
    p.add_argument("--only", action="append", metavar="STUDENT", help="grade only this student (repeatable)")
    p.add_argument("--keep-executed", action="store_true",
                   help="keep an executed copy of each notebook in OUT/executed/<student>/")
    p.add_argument("--scheduler", metavar="ADDRESS", help="grade on a Dask cluster: tcp://HOST:PORT, "
                   "tls://HOST:PORT, or local:N for N local worker processes (needs grader[dask]; "
                   "--jobs is then unused)")
    p.add_argument("--tls-ca-file", metavar="PEM", default="", help="CA certificate for a tls:// scheduler")
    p.add_argument("--tls-cert", metavar="PEM", default="", help="client certificate for a tls:// scheduler")
    p.add_argument("--tls-key", metavar="PEM", default="", help="client private key for a tls:// scheduler")
    p.add_argument("--roster", type=Path, metavar="CSV", help="the class list (student, name, email, lms_id, "
                   "section): students without a submission get a `missing` row")
    p.add_argument("--policy", type=Path, metavar="TOML", help="the late policy (default: DIR/course.toml)")
    add_common(p)
    return p


def _seed(book: gradebook.Gradebook, wanted: int | None) -> int:
    stored = book.meta("seed")
    seed = wanted if wanted is not None else int(stored) if stored is not None else secrets.randbelow(2**31)
    book.set_meta("seed", str(seed))
    return seed


def _count(n: int, noun: str) -> str:
    """`1 file`, `2 files`."""
    return f"{n} {noun}{'' if n == 1 else 's'}"


@dataclass(frozen=True)
class ClassRun:
    """What `grade_class` did: this run's counts, and the whole gradebook's rows after it."""

    counts: Counts | None  # None: the scheduler went away mid-run (what was graded is kept)
    rows: tuple[gradebook.Row, ...] = ()

    @property
    def not_graded(self) -> int:
        return sum(r.status == "error" for r in self.rows)


def main(argv: Sequence[str]) -> int:
    args = parser().parse_args(argv)
    check_options(args)
    from grader.exercises import registry

    registry.select(args.course)  # before the warm parent starts (it preloads the course's probes)
    if args.jobs < 1:
        raise UsageError("--jobs must be at least 1")
    cluster = _cluster(args)
    from grader.batch import policy

    course = policy.course_inputs(args.dir, args.out, args.roster, args.policy)
    found = discover.discover(args.dir, course.names.resolve if course.names is not None else str)
    if not found.entries and course.names is None:
        print(f"grade batch: no submissions found in {load.shown(str(args.dir))} (expected "
              f"<student>/exerciseN.py or .ipynb, or <student>_exerciseN.py){_skipped_note(found.skipped)}",
              file=sys.stderr)
        return EXIT_SOME_NOT_GRADED
    run = grade_class(args.dir, args.out, seed=args.seed, device=args.device, timeout=args.timeout, jobs=args.jobs,
                      force=args.force, only=args.only, keep_executed=args.keep_executed, cluster=cluster, found=found,
                      course=course)
    if run.counts is None:
        return EXIT_SOME_NOT_GRADED
    errored = run.not_graded
    print(f"grade batch: wrote {args.out / 'gradebook.csv'}; "
          + (f"{_count(errored, 'submission')} could not be graded" if errored else "every submission was graded"),
          file=sys.stderr)
    print(run.counts.line(), file=sys.stderr)
    return EXIT_SOME_NOT_GRADED if errored or run.counts.failed else EXIT_ALL_GRADED


def _skipped_note(skipped: Sequence[discover.Skipped]) -> str:
    return f"; {_count(len(skipped), 'file')} passed over" if skipped else ""


def grade_class(folder: Path, out: Path, *, seed: int | None = None, device: str = "auto",
                timeout: float | None = None, jobs: int = 1, force: bool = False, only: Sequence[str] | None = None,
                keep_executed: bool = False, cluster: Any = None, found: discover.Found | None = None,
                roster: Path | None = None, policy_file: Path | None = None, course: Any = None) -> ClassRun:
    """Grade the class in `folder` into `out` (gradebook, reports, summary, batch.json), with an
    optional roster and late policy (`course`: both, already read by `policy.course_inputs`)."""
    from grader.batch import policy

    course = course or policy.course_inputs(folder, out, roster, policy_file)
    found = found or discover.discover(folder, course.names.resolve if course.names is not None else str)
    entries = [e for e in found.entries if not only or e.student in only]
    book = _open_book(out)
    if cluster is None:  # a Dask cluster's workers start their own
        from grader.sandbox import run as sandbox

        sandbox.warm_up(notebooks=True)
    try:
        settings = Settings(_seed(book, seed), device, timeout)
        policy.keep(book, course)
        plan = cache.plan(book, entries, settings, force)
        if cluster is None:
            _hint_preloads([entry for entry, _ in plan.todo])
        skipped = found.skipped + plan.skipped
        print(f"grade batch: {_count(len(entries), 'submission')} ({plan.reused} already graded), "
              f"{_count(len(skipped), 'file')} skipped, seed {settings.seed}", file=sys.stderr)
        try:
            failed = _run(book, plan.todo, settings, jobs, out, cluster, keep_executed)
        except cluster.stops if cluster is not None else () as exc:  # the scheduler went away
            print(f"grade batch: {exc}; the results graded so far are kept: run the same command again "
                  "to resume", file=sys.stderr)
            return ClassRun(None)
        rows = tuple(book.rows())  # the whole gradebook, whatever --only chose to grade this time
        _write_outputs(out, book, skipped, settings, found.entries)
    finally:
        book.close()
    counts = Counts(plan.fresh, plan.reused, len(plan.todo) - plan.fresh, failed, len(skipped), settings.seed)
    write_counts(out / "batch.json", counts)
    return ClassRun(counts, rows)


def _hint_preloads(todo: Sequence[discover.Entry]) -> None:
    """What the warm parent, still importing, should preload too for this class; for a class of
    HUGE_PAGES_FROM or more, its memory in huge pages (`forkserver_hugepages`)."""
    from grader.intake.preloads import any_wanted
    from grader.sandbox import warm_hints

    for module in any_wanted((entry.path, entry.root) for entry in todo):
        warm_hints.ask(module)
    if len(todo) >= HUGE_PAGES_FROM:
        warm_hints.ask(warm_hints.HUGE_PAGES)


def _open_book(out: Path) -> gradebook.Gradebook:
    """OUT's gradebook; UsageError naming OUT when it cannot be created or written."""
    import sqlite3

    try:
        out.mkdir(parents=True, exist_ok=True)
        if not os.access(out, os.W_OK | os.X_OK):
            raise PermissionError(13, "Permission denied")
        return gradebook.Gradebook(out / "gradebook.sqlite")
    except (OSError, sqlite3.Error) as exc:
        why = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise UsageError(f"cannot write to --out {load.shown(str(out))}: {why}") from None


def write_counts(path: Path, counts: Counts) -> None:
    """OUT/batch.json: this run's counts and seed."""
    from dataclasses import asdict

    path.write_text(json.dumps(asdict(counts), indent=2) + "\n", encoding="utf-8")


def _cluster(args: argparse.Namespace) -> Any:
    """The Dask cluster to grade on (not yet connected), or None for this machine's pool."""
    if args.scheduler is None:
        if args.tls_ca_file or args.tls_cert or args.tls_key:
            raise UsageError("--tls-* options need --scheduler tls://HOST:PORT")
        return None
    try:
        from grader.batch import executors_dask
    except ImportError as exc:
        raise UsageError(f"--scheduler needs Dask ({exc}): pip install 'honest-grader[dask]'") from None
    executors_dask.parse_scheduler(args.scheduler)
    return executors_dask.Cluster(args.scheduler, executors_dask.Tls(args.tls_ca_file, args.tls_cert, args.tls_key))


def _run(book: gradebook.Gradebook, todo: list[tuple[discover.Entry, str]], settings: Settings, jobs: int,
         out: Path, cluster: Any = None, keep_executed: bool = False) -> int:
    """Grade everything in `todo`, committing each result as it arrives; returns the error count."""
    from contextlib import nullcontext

    from grader.batch.progress import Progress

    errors = 0
    with (cluster if cluster is not None and todo else nullcontext()) as executor, Progress(len(todo)) as progress:
        outcomes = (grading.remote(todo, settings, executor) if executor is not None
                    else grading.local(todo, settings, jobs))
        for (entry, key), outcome in outcomes:
            if outcome.final:
                outcome = store.commit(book, entry, key, outcome, out, keep_executed)
            errors += outcome.status == "error"
            progress.advance(entry.student, entry.exercise, outcome)
    return errors


def _write_outputs(out: Path, book: gradebook.Gradebook, skipped: tuple[discover.Skipped, ...],
                   settings: Settings, entries: tuple[discover.Entry, ...] = ()) -> None:
    from grader.batch import similarity, summary as classreport

    shown_skipped = tuple(discover.Skipped(Path(load.shown(str(s.path))), s.reason) for s in skipped)  # display only
    try:
        similar = similarity.of_entries(entries)
    except Exception as exc:  # the list for the instructor must not cost the gradebook
        print(f"grade batch: similar submissions not listed ({type(exc).__name__}: {str(exc)[:200]})", file=sys.stderr)
        similar = ()
    classreport.write_outputs(out, book, shown_skipped, settings.seed, similar)
