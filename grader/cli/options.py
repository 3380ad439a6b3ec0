"""The one option parser of every `grade` command, and the options that every grading command shares."""
from __future__ import annotations

import argparse
from pathlib import Path

from grader.errors import UsageError
from grader.results.formats import NAMES as REPORT_FORMATS


class Parser(argparse.ArgumentParser):
    """argparse that reports errors as one line (and exit status 2)."""

    def error(self, message: str) -> None:  # type: ignore[override]
        raise UsageError(message)


def report_spec(text: str) -> tuple[str, Path]:
    """`FORMAT=PATH` -> (format, path)."""
    fmt, sep, path = text.partition("=")
    fmt = fmt.strip().lower()
    if not sep or not path:
        raise argparse.ArgumentTypeError(f"expected FORMAT=PATH, got {text!r}")
    if fmt not in REPORT_FORMATS:
        raise argparse.ArgumentTypeError(f"unknown report format {fmt!r} (one of {', '.join(REPORT_FORMATS)})")
    return fmt, Path(path)


def add_common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--seed", type=int, help="seed for every input (default: random, printed in the report)")
    p.add_argument("--device", choices=("cpu", "cuda", "auto"), default="auto",
                   help="where the student's code runs (auto: CUDA when available)")
    p.add_argument("--timeout", type=float, help="seconds for the whole submission (default 60, 300 for exercise 6)")
    p.add_argument("--isolation", choices=("best-effort", "strict"), default="best-effort",
                   help="strict: refuse to grade (exit 2) unless the worker gets PID and network "
                        "namespaces, Landlock and rlimits (see `grade doctor`)")
    p.add_argument("--templates", metavar="DIR", help="a folder of Jinja templates that override the built-in ones")
    add_course(p)


def add_course(p: argparse.ArgumentParser) -> None:
    """`--course`: read from argv before any parser runs (`course_option.take_course_option`); listed for --help."""
    p.add_argument("--course", metavar="DIR|NAME", help="the course whose exercises are graded: a folder holding "
                   "course.py, or a registered name (default: GRADER_COURSE, else the built-in course)")


def check_options(args: argparse.Namespace) -> None:
    if args.timeout is not None and not (0 < args.timeout <= 24 * 3600):
        raise UsageError("--timeout must be a positive number of seconds")
    if args.seed is not None and not (0 <= args.seed < 2**63):
        raise UsageError("--seed must be a non-negative integer")
