"""`grade --watch FILE [options]`: grade FILE again each time it is saved.

One process for the whole session: the warm parent (the preloaded forkserver) stays alive
between grades, a confined student worker waits for the next save (`grader.sandbox.spare`),
and one seed is kept (the one given, else one drawn at the start) so the reference's answers
are computed once. Each grade prints the report (after clearing the
screen on a terminal) and rewrites the `--json` / `--report` files. Ctrl-C ends it; the
forkserver and every worker are stopped on the way out (exit status 130).
"""
from __future__ import annotations

import hashlib
import os
import sys
import time
from pathlib import Path
from typing import Callable, Sequence

from grader.cli.changes import SAVED, Changes  # noqa: F401 - watch.Changes(path)
from grader.errors import UsageError

POLL_SECONDS = 0.1  # without inotify: how often the file is looked at
RECHECK_SECONDS = 1.0  # with inotify: looked at anyway this often (a file system that sends no events)
SETTLE_SECONDS = 0.05  # polling: a change must stay the same this long (editors write in steps)
QUIET_SECONDS = 0.02  # inotify: a change is read once no event has come for this long
SAVED_QUIET_SECONDS = 0.003  # ... or this long, after the file was closed or renamed into place
CLEAR = "\x1b[2J\x1b[H"


def fingerprint(path: Path) -> tuple[int, int, str] | None:
    """(mtime, size, content digest) of `path`, or None while it is missing or unreadable."""
    try:
        st = os.stat(path)
        with open(path, "rb") as handle:
            digest = hashlib.sha256(handle.read(64 * 1024 * 1024)).hexdigest()
    except OSError:
        return None
    return st.st_mtime_ns, st.st_size, digest


def wait_for_change(path: Path, last: tuple[int, int, str] | None,
                    sleep: Callable[[float], None] = time.sleep,
                    changes: Changes | None = None) -> tuple[int, int, str]:
    """Block until the file's content differs from `last` and has settled; its new fingerprint.

    With `changes` (inotify), it wakes when the file is written and reads it once the writes
    have stopped; otherwise it polls. A save made while the caller was busy is seen at once."""
    if changes is not None and changes.live:
        return _wait_for_events(path, last, changes)
    while True:
        sleep(POLL_SECONDS)
        now = fingerprint(path)
        if now is None or (last is not None and now[2] == last[2]):
            continue
        sleep(SETTLE_SECONDS)
        if fingerprint(path) == now:
            return now


def _wait_for_events(path: Path, last: tuple[int, int, str] | None, changes: Changes) -> tuple[int, int, str]:
    saved = False  # whether the last event said the file was closed after writing or renamed into place
    while True:
        now = fingerprint(path)
        if now is not None and (last is None or now[2] != last[2]):
            while event := changes.wait(SAVED_QUIET_SECONDS if saved else QUIET_SECONDS):
                saved = event == SAVED  # the writes stop once no event comes for the quiet time
            settled = fingerprint(path)
            if settled == now:
                return now
            continue
        saved = changes.wait(RECHECK_SECONDS) == SAVED


def _without_watch(argv: Sequence[str]) -> list[str]:
    return [a for a in argv if a != "--watch"]


def _with_seed(argv: list[str]) -> list[str]:
    if any(a == "--seed" or a.startswith("--seed=") for a in argv) or {"-h", "--help"} & set(argv):
        return argv
    from grader.judge import grade as judge

    return argv + ["--seed", str(judge.default_seed())]


def main(argv: Sequence[str]) -> int:
    """Entry point of `grade --watch`: exit 2 on bad usage, 130 on Ctrl-C."""
    from grader.cli import app

    args = _with_seed(_without_watch(argv))
    parsed = app.file_parser().parse_args(args)  # bad options: one line, exit 2, before watching
    path = Path(parsed.file)
    if fingerprint(path) is None:
        raise UsageError(f"no such file: {path}")
    terminal = sys.stdout.isatty()
    last = fingerprint(path)
    changes = Changes(path)  # from before the first grade: a save made during it is not missed
    from grader.sandbox import process

    process.hold_cleanup()  # each grade's workers are stopped once its report is out
    try:
        while True:
            if terminal:
                sys.stdout.write(CLEAR)
            _grade_once(app, args)
            print(f"watching {path.name} (Ctrl-C to stop)", file=sys.stderr, flush=True)
            spare_worker()
            last = wait_for_change(path, last, changes=changes)
    except KeyboardInterrupt:
        changes.close()
        print("grade: watch stopped", file=sys.stderr)
        from grader.sandbox import warm

        warm.shut_down()
        return 130


def spare_worker() -> None:
    """A confined worker waiting for the next save (`grader.sandbox.spare`); if one cannot be
    made now, the next grade starts its own and reports what went wrong. A grade that asked for
    a preload the warm parent had frozen without (`warm_hints.late`: the file now names
    torch.optim, say) first has the warm parent started again, with it, for the grades to come."""
    from grader.errors import GraderBug
    from grader.sandbox import process, spare, warm, warm_hints

    process.cleanup()  # the last grade's workers and folders, now that its report is out
    if warm_hints.late():
        spare.discard()
        warm.shut_down()
        warm.warm_up()
    try:
        spare.prepare()
    except (GraderBug, UsageError, OSError):
        spare.discard()


def _grade_once(app, args: list[str]) -> None:  # type: ignore[no-untyped-def]
    """One grade; a file caught mid-save (not UTF-8, not a notebook yet) is reported, not fatal."""
    try:
        app.grade_file(args)
    except UsageError as exc:
        print(f"grade: error: {app.one_line(exc)}", file=sys.stderr)
    sys.stdout.flush()
