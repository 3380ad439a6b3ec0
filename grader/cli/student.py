"""The student bundle's `grade` command: `grader.cli.app` with a public seed by default.

Answers are precomputed for a few public seeds only, so a run without `--seed` takes one of
them at random; a `--seed` that is not public is refused by the judge with one line (exit 2).
"""
from __future__ import annotations

import sys
from typing import Sequence

from grader.cli import app as cli


def _has_seed(argv: Sequence[str]) -> bool:
    return any(a == "--seed" or a.startswith("--seed=") for a in argv)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of `grade` in the student wheel."""
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] not in cli.SUBCOMMANDS and not _has_seed(argv) and not {"-h", "--help"} & set(argv):
        from grader.judge import grade as grading

        argv += ["--seed", str(grading.default_seed())]
    return cli.main(argv)


def run() -> None:
    """The student wheel's `grade` console script (`grader.cli.app.run`: a quick exit)."""
    cli.run(main)
